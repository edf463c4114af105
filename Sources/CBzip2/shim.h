#ifndef FATHOM_CBZIP2_SHIM_H
#define FATHOM_CBZIP2_SHIM_H
#include <bzlib.h>
#endif
