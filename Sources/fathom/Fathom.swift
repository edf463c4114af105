import FathomCore
import ArgumentParser
@main struct Fathom: ParsableCommand { func run() {} }
