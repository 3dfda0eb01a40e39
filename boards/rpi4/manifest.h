/*
 * The Solo5 application manifest as it sits in the unikernel's .note.solo5.manifest section
 * (written by `solo5-elftool gen-manifest`, format "MFT1", version 1), declared here in our own
 * terms: the binding only reads it. test/abi_check.c checks this layout against Solo5's
 * mft_abi.h whenever Solo5's headers are at hand (the Conan build), so the two cannot drift.
 */
#ifndef RPI4_MANIFEST_H
#define RPI4_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>

#define RPI4_MFT_NOTE_TYPE   0x3154464du /* bytes 'M' 'F' 'T' '1' */
#define RPI4_MFT_VERSION     1u
#define RPI4_MFT_MAX_ENTRIES 64u
#define RPI4_MFT_NAME_SIZE   68u /* including the terminating NUL */

enum rpi4_mft_type {
    RPI4_MFT_BLOCK_BASIC = 1,
    RPI4_MFT_NET_BASIC = 2,
    RPI4_MFT_RESERVED_FIRST = 1 << 30, /* entry 0, unnamed */
};

struct rpi4_mft_entry {
    char name[RPI4_MFT_NAME_SIZE];
    enum rpi4_mft_type type;
    union {
        struct {
            uint64_t capacity;
            uint16_t block_size;
        } block;
        struct {
            uint8_t mac[6];
            uint16_t mtu;
        } net;
    } u;
    union { /* filled in by a tender or binding at run time */
        int hostfd;
        void *data;
    } b;
    bool attached;
};

struct rpi4_mft {
    uint32_t version;
    uint32_t entries;
    struct rpi4_mft_entry e[]; /* entries of them */
};

/* The ELF note header in front of it; the manifest follows at the next 8-byte boundary. */
struct rpi4_note_header {
    uint32_t namesz, descsz, type;
    char name[8]; /* "Solo5", NUL-padded */
};
#define RPI4_MFT_OFFSET                                                                        \
    ((sizeof(struct rpi4_note_header) + _Alignof(struct rpi4_mft) - 1) &                      \
     ~(_Alignof(struct rpi4_mft) - 1))

_Static_assert(sizeof(struct rpi4_mft_entry) == 104, "manifest entry layout");
_Static_assert(sizeof(struct rpi4_mft) == 8, "manifest header layout");
_Static_assert(RPI4_MFT_OFFSET == 24, "manifest offset in its note");

#endif
