/*
 * Compile-time check (the Makefile runs it with -fsyntax-only on every build) that the
 * declarations the rpi4 binding is built against match what it assumes:
 *   - always: the solo5.h in SOLO5_INCLUDE (ours in CI, Solo5's in the real build) has the
 *     layouts and constants below (a function whose type differs already fails to compile in
 *     the binding's own sources, which define it against the same header);
 *   - with Solo5's headers (RPI4_CHECK_SOLO5_HEADERS, set when SOLO5_INCLUDE has mft_abi.h):
 *     our manifest.h and ABI note agree with Solo5's mft_abi.h and elf_abi.h.
 */
#include <stddef.h>

#include "solo5.h"
#include "manifest.h"
#include "rpi4_abi.h"

#define SAME(a, b) _Static_assert((long long)(a) == (long long)(b), #a " != " #b)

SAME(SOLO5_R_OK, 0);
SAME(SOLO5_R_AGAIN, 1);
SAME(SOLO5_R_EINVAL, 2);
SAME(SOLO5_R_EUNSPEC, 3);
SAME(SOLO5_EXIT_SUCCESS, 0);
SAME(SOLO5_EXIT_FAILURE, 1);
SAME(SOLO5_EXIT_ABORT, 255);
SAME(SOLO5_NET_ALEN, 6);
SAME(SOLO5_NET_HLEN, 14);
SAME(sizeof(solo5_time_t), 8);
SAME(sizeof(solo5_handle_t), 8);
SAME(sizeof(solo5_handle_set_t), 8);
SAME(sizeof(solo5_off_t), 8);
SAME(sizeof(solo5_result_t), 4);

SAME(sizeof(struct solo5_start_info), 24);
SAME(offsetof(struct solo5_start_info, cmdline), 0);
SAME(offsetof(struct solo5_start_info, heap_start), 8);
SAME(offsetof(struct solo5_start_info, heap_size), 16);
SAME(sizeof(struct solo5_net_info), 16);
SAME(offsetof(struct solo5_net_info, mac_address), 0);
SAME(offsetof(struct solo5_net_info, mtu), 8);
SAME(sizeof(struct solo5_block_info), 16);
SAME(offsetof(struct solo5_block_info, capacity), 0);
SAME(offsetof(struct solo5_block_info, block_size), 8);

/* The functions the binding defines are checked by its own sources, which include the same
 * solo5.h; the application's entry point is checked here. */
int solo5_app_main(const struct solo5_start_info *info);

#ifdef RPI4_CHECK_SOLO5_HEADERS
#include "mft_abi.h"
#include "elf_abi.h"

SAME(RPI4_MFT_NOTE_TYPE, MFT1_NOTE_TYPE);
SAME(RPI4_MFT_VERSION, MFT_VERSION);
SAME(RPI4_MFT_MAX_ENTRIES, MFT_MAX_ENTRIES);
SAME(RPI4_MFT_NAME_SIZE, MFT_NAME_SIZE);
SAME(RPI4_MFT_BLOCK_BASIC, MFT_DEV_BLOCK_BASIC);
SAME(RPI4_MFT_NET_BASIC, MFT_DEV_NET_BASIC);
SAME(RPI4_MFT_RESERVED_FIRST, MFT_RESERVED_FIRST);
SAME(sizeof(enum rpi4_mft_type), sizeof(mft_type_t));
SAME(sizeof(struct rpi4_mft_entry), sizeof(struct mft_entry));
SAME(offsetof(struct rpi4_mft_entry, type), offsetof(struct mft_entry, type));
SAME(offsetof(struct rpi4_mft_entry, u), offsetof(struct mft_entry, u));
SAME(offsetof(struct rpi4_mft_entry, b), offsetof(struct mft_entry, b));
SAME(offsetof(struct rpi4_mft_entry, attached), offsetof(struct mft_entry, attached));
SAME(sizeof(struct rpi4_mft), sizeof(struct mft));
SAME(offsetof(struct rpi4_mft, entries), offsetof(struct mft, entries));
SAME(offsetof(struct rpi4_mft, e), offsetof(struct mft, e));
SAME(sizeof(struct rpi4_note_header), sizeof(struct mft1_nhdr));
SAME(RPI4_MFT_OFFSET, offsetof(struct mft1_note, m));

SAME(RPI4_NOTE_ABI1, ABI1_NOTE_TYPE);
SAME(sizeof(RPI4_NOTE_OWNER), sizeof(ABI1_NOTE_NAME));
SAME(sizeof(struct abi1_note), 36);
SAME(sizeof(struct abi1_info), 16);
/* Our target must not be one of Solo5's. */
_Static_assert(RPI4_ABI_TARGET != HVT_ABI_TARGET && RPI4_ABI_TARGET != SPT_ABI_TARGET &&
                   RPI4_ABI_TARGET != VIRTIO_ABI_TARGET && RPI4_ABI_TARGET != MUEN_ABI_TARGET &&
                   RPI4_ABI_TARGET != GENODE_ABI_TARGET && RPI4_ABI_TARGET != XEN_ABI_TARGET,
               "RPI4 ABI target collides with a Solo5 target");
#endif
