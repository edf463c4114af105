#ifndef FATHOM_CLZMA_SHIM_H
#define FATHOM_CLZMA_SHIM_H
#include <lzma.h>
#endif
