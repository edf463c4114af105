import FathomStore
import FathomSupport
import FathomCatalog

/// Errors of the ingest layer. A bad *record* is never an error (it is counted and sampled); these
/// are inputs that cannot be read at all, or failures of the store itself.
public enum IngestError: Error, Sendable, CustomStringConvertible {
    /// An input path does not exist or is neither a file nor a directory.
    case missingInput(path: String)
    /// The source kind of an input cannot be decided from its fields.
    case undecidableKind(input: String, detail: String)
    /// No known format matches the input's content.
    case unknownFormat(input: String, detail: String)
    /// `--format` names no known format.
    case unknownFormatName(String, known: [String])
    /// A profile file is invalid.
    case profile(path: String, detail: String)
    /// Another process holds the store.
    case storeBusy(path: String)
    case store(StoreError)
    case catalog(CatalogError)
    /// Writing the store failed while `input` was read (a full disk, an I/O error): our failure,
    /// not the evidence's. Nothing about the input was recorded; the next run reads it again.
    case storeWrite(input: String, StoreError)
    /// The input itself could not be read through: it changed while it was read (it shrank or was
    /// rewritten), or its disk returned an error. Not recorded; the next run reads it again.
    case inputRead(input: String, StoreError)

    /// The ingest error for a store that could not be opened.
    public init(_ error: CatalogError) {
        switch error {
        case let .busy(path): self = .storeBusy(path: path)
        case let .missing(path): self = .missingInput(path: path + "/catalog.sqlite")
        case let .storage(inner): self = .store(inner)
        case .database: self = .catalog(error)
        }
    }

    public var description: String {
        switch self {
        case let .missingInput(path):
            "Input '\(path)' does not exist or is not a regular file or directory."
        case let .undecidableKind(input, detail):
            "Cannot decide the source kind of '\(input)': \(detail)."
        case let .unknownFormat(input, detail):
            "Unknown format in '\(input)': \(detail.hasSuffix(".") ? String(detail.dropLast()) : detail)."
        case let .unknownFormatName(name, known):
            "Unknown format '\(name)'; known formats: \(known.joined(separator: ", "))."
        case let .profile(path, detail):
            "Profile '\(path)': \(detail)."
        case let .storeBusy(path):
            "The store '\(path)' is in use by another Fathom process; wait for it to finish."
        case let .store(error):
            error.description
        case let .catalog(error):
            error.description
        case let .storeWrite(input, error):
            "Could not write the store while reading '\(input)': \(error.description) Nothing about '\(input)' was "
                + "recorded; once the store can be written again, the next run reads it."
        case let .inputRead(input, error):
            "Could not read '\(input)' through: \(error.description)"
        }
    }
}
