/*
 * The test program's application manifest, laid out as `solo5-elftool gen-manifest` would write
 * it for {"devices": [{"name": "service0", "type": "NET_BASIC"},
 *                     {"name": "storage0", "type": "BLOCK_BASIC"}]}.
 */
#include "manifest.h"

struct test_manifest_note {
    struct rpi4_note_header h;
    struct {
        uint32_t version;
        uint32_t entries;
        struct rpi4_mft_entry e[3];
    } m;
};

const struct test_manifest_note __solo5_mft1_note
    __attribute__((section(".note.solo5.manifest"), aligned(4))) = {
        .h = {.namesz = 6,
              .descsz = sizeof(struct test_manifest_note) - sizeof(struct rpi4_note_header),
              .type = RPI4_MFT_NOTE_TYPE,
              .name = "Solo5"},
        .m = {.version = RPI4_MFT_VERSION,
              .entries = 3,
              .e = {{.name = "", .type = RPI4_MFT_RESERVED_FIRST},
                    {.name = "service0", .type = RPI4_MFT_NET_BASIC},
                    {.name = "storage0", .type = RPI4_MFT_BLOCK_BASIC}}},
};
