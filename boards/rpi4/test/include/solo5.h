/*
 * Our own minimal declaration of the Solo5 application interface, as implemented by the rpi4
 * binding: used to build and test the binding where Solo5's headers are not at hand (CI).
 * The real build compiles against Solo5's solo5.h instead, and test/abi_check.c compares the
 * layouts and constants below with it, so a change on either side fails the build.
 */
#ifndef RPI4_TEST_SOLO5_API_H
#define RPI4_TEST_SOLO5_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SOLO5_R_OK = 0,
    SOLO5_R_AGAIN = 1,
    SOLO5_R_EINVAL = 2,
    SOLO5_R_EUNSPEC = 3
} solo5_result_t;

#define SOLO5_EXIT_SUCCESS 0
#define SOLO5_EXIT_FAILURE 1
#define SOLO5_EXIT_ABORT 255

typedef uint64_t solo5_time_t;     /* nanoseconds */
typedef uint64_t solo5_handle_t;
typedef uint64_t solo5_handle_set_t; /* one bit per handle */
typedef uint64_t solo5_off_t;

#define SOLO5_NET_ALEN 6
#define SOLO5_NET_HLEN 14

/* What solo5_app_main receives: the command line and one heap region. */
struct solo5_start_info {
    const char *cmdline;
    uintptr_t heap_start;
    size_t heap_size;
};

struct solo5_net_info {
    uint8_t mac_address[SOLO5_NET_ALEN];
    size_t mtu;
};

struct solo5_block_info {
    solo5_off_t capacity;
    solo5_off_t block_size;
};

/* Provided by the application. */
int solo5_app_main(const struct solo5_start_info *info);

/* Provided by the binding. */
void solo5_exit(int status) __attribute__((noreturn));
void solo5_abort(void) __attribute__((noreturn));

size_t solo5_tls_size(void);
uintptr_t solo5_tls_tp_offset(uintptr_t tls);
solo5_result_t solo5_tls_init(uintptr_t tls);
solo5_result_t solo5_set_tls_base(uintptr_t base);

solo5_time_t solo5_clock_monotonic(void);
solo5_time_t solo5_clock_wall(void);
void solo5_yield(solo5_time_t deadline, solo5_handle_set_t *ready_set);

void solo5_console_write(const char *buf, size_t size);

solo5_result_t solo5_net_acquire(const char *name, solo5_handle_t *handle,
                                 struct solo5_net_info *info);
solo5_result_t solo5_net_write(solo5_handle_t handle, const uint8_t *buf, size_t size);
solo5_result_t solo5_net_read(solo5_handle_t handle, uint8_t *buf, size_t size,
                              size_t *read_size);

solo5_result_t solo5_block_acquire(const char *name, solo5_handle_t *handle,
                                   struct solo5_block_info *info);
solo5_result_t solo5_block_write(solo5_handle_t handle, solo5_off_t offset,
                                 const uint8_t *buf, size_t size);
solo5_result_t solo5_block_read(solo5_handle_t handle, solo5_off_t offset, uint8_t *buf,
                                size_t size);

#endif
