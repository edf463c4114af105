import FuzzSupport

// Hands the target to libFuzzer, which parses the command line and never returns here.
runFuzzer(fuzzDelimited)
