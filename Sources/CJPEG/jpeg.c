#include "CJPEG.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

struct onbrand_error_manager {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
    size_t message_size;
};

static void onbrand_error_exit(j_common_ptr info) {
    struct onbrand_error_manager *manager = (struct onbrand_error_manager *)info->err;
    char buffer[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, buffer);
    if (manager->message && manager->message_size > 0) {
        snprintf(manager->message, manager->message_size, "%s", buffer);
    }
    longjmp(manager->jump, 1);
}

/* Warnings (corrupt data libjpeg can skip over) are counted, not printed to stderr. */
static void onbrand_output_message(j_common_ptr info) { (void)info; }

int onbrand_jpeg_rows(const unsigned char *data, size_t size, int step, void *context, onbrand_jpeg_row_fn row,
                      int *width, int *height, char *error, size_t error_size) {
    struct jpeg_decompress_struct info;
    struct onbrand_error_manager manager;
    unsigned char *volatile buffer = NULL;
    memset(&info, 0, sizeof(info));
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = onbrand_error_exit;
    manager.base.output_message = onbrand_output_message;
    manager.message = error;
    manager.message_size = error_size;
    if (setjmp(manager.jump)) {
        jpeg_destroy_decompress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    /* A few hundred bytes can declare 65500 x 65500 pixels; refuse before libjpeg allocates for them. */
    if ((unsigned long long)info.image_width * (unsigned long long)info.image_height > 100000000ULL) {
        snprintf(error, error_size, "the JPEG declares %u x %u pixels, over the 100-megapixel limit", info.image_width, info.image_height);
        jpeg_destroy_decompress(&info);
        return 3;
    }
    info.mem->max_memory_to_use = 512L * 1024 * 1024;
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    buffer = malloc((size_t)info.output_width * (size_t)info.output_components);
    if (!buffer) {
        snprintf(error, error_size, "out of memory for a row of %u pixels", info.output_width);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    while (info.output_scanline < info.output_height) {
        int y = (int)info.output_scanline;
        JSAMPROW rows[1] = {buffer};
        jpeg_read_scanlines(&info, rows, 1);
        if (step <= 1 || y % step == 0) row(context, y, buffer, (int)info.output_width);
    }
    jpeg_finish_decompress(&info);
    long warnings = manager.base.num_warnings;
    jpeg_destroy_decompress(&info);
    free(buffer);
    if (warnings > 0) {
        /* libjpeg fills what it could not read with grey: the pixels are not the file's. */
        snprintf(error, error_size, "the data is corrupt or cut short (%ld warnings from libjpeg)", warnings);
        return 2;
    }
    return 0;
}
