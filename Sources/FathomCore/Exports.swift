// FathomCore is the top of the library: the analyze, report and sweep engines. It re-exports the
// layers below it, so a client (the `fathom` command) imports one module.
@_exported import FathomAnalysis
@_exported import FathomCatalog
@_exported import FathomDetect
@_exported import FathomIngest
@_exported import FathomIntegrity
@_exported import FathomReports
@_exported import FathomSimulator
@_exported import FathomStore
@_exported import FathomSupport
