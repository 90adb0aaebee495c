/* CZlib: the system zlib, for compressing the emulator's PNG images (PNG's IDAT is a zlib stream). */
#ifndef ONBRAND_CZLIB_H
#define ONBRAND_CZLIB_H
#include <zlib.h>
#endif
