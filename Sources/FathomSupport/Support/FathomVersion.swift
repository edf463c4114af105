import FathomStore

/// The tool version written into catalogs, runs and reports.
public enum FathomVersion {
    public static let current = "0.1.0"
}
