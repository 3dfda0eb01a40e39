/*
 * The identity of the rpi4 binding in a unikernel ELF: the Solo5 "ABI1" note.
 *
 * This is the one place these two numbers are defined. `uktoolchain image` refuses an ELF whose
 * e_machine is not AArch64 or that lacks a note with exactly these values (see README.md).
 *
 * The note is the one every Solo5 binding emits: section .note.solo5.abi, owner "Solo5",
 * type "ABI1" (0x31494241), descriptor {abi_target, abi_version, 0, 0} as four 32-bit words.
 * abi_target is "RPI4" read as a little-endian 32-bit word, far from Solo5's own targets (1..6).
 */
#ifndef RPI4_ABI_H
#define RPI4_ABI_H

#define RPI4_ABI_TARGET  0x34495052u /* bytes 'R' 'P' 'I' '4' */
#define RPI4_ABI_VERSION 1u

#define RPI4_NOTE_OWNER  "Solo5"
#define RPI4_NOTE_ABI1   0x31494241u /* bytes 'A' 'B' 'I' '1' */

#endif
