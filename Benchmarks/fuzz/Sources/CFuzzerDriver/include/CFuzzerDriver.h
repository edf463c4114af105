// libFuzzer's driver entry point (compiler-rt FuzzerInterface.h / FuzzerDriver.cpp), linked in by
// -sanitize=fuzzer. Each fuzz target's main.swift calls it with its LLVMFuzzerTestOneInput.
#ifndef FATHOM_CFUZZERDRIVER_H
#define FATHOM_CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
