#ifndef ONBRAND_CJPEG_H
#define ONBRAND_CJPEG_H

#include <stddef.h>

/// Called once per decoded row: `rgb` holds `width` pixels of 8-bit R, G, B.
typedef void (*onbrand_jpeg_row_fn)(void *context, int y, const unsigned char *rgb, int width);

/// Decodes a baseline or progressive JPEG to RGB rows through libjpeg, one row in memory at a
/// time, calling `row` for every `step`-th row. libjpeg reports fatal errors by calling a handler
/// that must not return; this shim catches them with setjmp so a broken file becomes an error
/// message in `error` and a non-zero result, never an exit or a crash.
/// Returns 0 on success and fills `width` and `height`.
int onbrand_jpeg_rows(const unsigned char *data, size_t size, int step, void *context, onbrand_jpeg_row_fn row,
                      int *width, int *height, char *error, size_t error_size);

#endif
