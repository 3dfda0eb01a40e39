#include "solo5.h"

/* The manifest `solo5-elftool gen-manifest` writes for an application without devices. */
#define MFT_ENTRIES 1
#include "mft_abi.h"
MFT1_NOTE_DECLARE_BEGIN
{
    .version = MFT_VERSION, .entries = 1,
    .e = { { .name = "", .type = MFT_RESERVED_FIRST } }
}
MFT1_NOTE_DECLARE_END

static const char greeting[] = "hello from solo5\n";

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    solo5_console_write(greeting, sizeof greeting - 1);
    return SOLO5_EXIT_SUCCESS;
}
