/*
 * Devices. The binding has no network or block driver (QEMU's raspi4b has no Ethernet, and the
 * Pi 4's GENET and SD host are not driven yet), so:
 *   - at boot, the manifest is validated like Solo5's bindings do, and each declared device is
 *     listed with a warning;
 *   - solo5_{net,block}_acquire answer SOLO5_R_EINVAL for a name the manifest does not declare
 *     with that type (as Solo5's bindings do) and SOLO5_R_EUNSPEC for a declared one;
 *   - every other call answers SOLO5_R_EINVAL: no handle can be valid.
 * A unikernel without a manifest (no __solo5_mft1_note linked in) simply has no devices.
 */
#include "rpi4.h"
#include "manifest.h"

/* Unsized: its size is the unikernel's business (and the compiler must not assume one). */
extern const char __solo5_mft1_note[] __attribute__((weak));

static const struct rpi4_mft *manifest;

static const char *type_name(enum rpi4_mft_type type)
{
    return type == RPI4_MFT_NET_BASIC ? "network" : type == RPI4_MFT_BLOCK_BASIC ? "block" : "?";
}

static const char *check(const struct rpi4_note_header *note, const struct rpi4_mft **out)
{
    if (note->namesz != 6 || strncmp(note->name, "Solo5", 6) != 0 ||
        note->type != RPI4_MFT_NOTE_TYPE)
        return "not a Solo5 MFT1 note";
    if (note->descsz < RPI4_MFT_OFFSET - sizeof *note + sizeof(struct rpi4_mft))
        return "note too small";
    const struct rpi4_mft *m = (const void *)((const char *)note + RPI4_MFT_OFFSET);
    if (m->version != RPI4_MFT_VERSION)
        return "unsupported manifest version";
    if (m->entries < 1 || m->entries > RPI4_MFT_MAX_ENTRIES)
        return "bad number of entries";
    if (note->descsz - (RPI4_MFT_OFFSET - sizeof *note) !=
        sizeof *m + m->entries * sizeof m->e[0])
        return "size does not match the number of entries";
    if (m->e[0].type != RPI4_MFT_RESERVED_FIRST || m->e[0].name[0] != '\0')
        return "first entry is not the reserved one";
    for (unsigned i = 0; i < m->entries; i++) {
        if (m->e[i].name[RPI4_MFT_NAME_SIZE - 1] != '\0')
            return "unterminated device name";
        if (m->e[i].attached)
            return "device marked attached";
    }
    *out = m;
    return NULL;
}

void devices_init(void)
{
    if (__solo5_mft1_note == NULL) {
        rpi4_log(LOG_DEBUG, "rpi4: no manifest linked in: no devices\n");
        return;
    }
    const char *problem = check((const void *)__solo5_mft1_note, &manifest);
    if (problem)
        rpi4_fatal("rpi4: invalid application manifest (.note.solo5.manifest): %s\n", problem);
    for (unsigned i = 1; i < manifest->entries; i++)
        rpi4_log(LOG_WARN, "rpi4: the manifest declares %s device '%s', but this board has no "
                           "driver for it: acquiring it will fail\n",
                 type_name(manifest->e[i].type), manifest->e[i].name);
}

static solo5_result_t acquire(const char *name, enum rpi4_mft_type type)
{
    if (manifest) {
        for (unsigned i = 1; i < manifest->entries; i++) {
            if (manifest->e[i].type == type &&
                strncmp(manifest->e[i].name, name, RPI4_MFT_NAME_SIZE) == 0) {
                rpi4_log(LOG_WARN, "rpi4: %s device '%s': no driver on this board\n",
                         type_name(type), name);
                return SOLO5_R_EUNSPEC;
            }
        }
    }
    rpi4_log(LOG_WARN, "rpi4: %s device '%s' is not declared in the manifest\n", type_name(type),
             name);
    return SOLO5_R_EINVAL;
}

solo5_result_t solo5_net_acquire(const char *name, solo5_handle_t *handle,
                                 struct solo5_net_info *info)
{
    (void)handle;
    (void)info;
    return acquire(name, RPI4_MFT_NET_BASIC);
}

solo5_result_t solo5_net_write(solo5_handle_t handle, const uint8_t *buf, size_t size)
{
    (void)handle;
    (void)buf;
    (void)size;
    return SOLO5_R_EINVAL;
}

solo5_result_t solo5_net_read(solo5_handle_t handle, uint8_t *buf, size_t size,
                              size_t *read_size)
{
    (void)handle;
    (void)buf;
    (void)size;
    (void)read_size;
    return SOLO5_R_EINVAL;
}

solo5_result_t solo5_block_acquire(const char *name, solo5_handle_t *handle,
                                   struct solo5_block_info *info)
{
    (void)handle;
    (void)info;
    return acquire(name, RPI4_MFT_BLOCK_BASIC);
}

solo5_result_t solo5_block_write(solo5_handle_t handle, solo5_off_t offset, const uint8_t *buf,
                                 size_t size)
{
    (void)handle;
    (void)offset;
    (void)buf;
    (void)size;
    return SOLO5_R_EINVAL;
}

solo5_result_t solo5_block_read(solo5_handle_t handle, solo5_off_t offset, uint8_t *buf,
                                size_t size)
{
    (void)handle;
    (void)offset;
    (void)buf;
    (void)size;
    return SOLO5_R_EINVAL;
}
