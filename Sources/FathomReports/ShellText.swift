import FathomSupport

/// Quoting for POSIX shells: values from logs inside suggested commands.
public enum ShellText {
    /// `value` in single quotes, each `'` written as `'\''`; control characters cannot be typed
    /// into a shell safely and are replaced by `?` (the command then visibly differs from the value).
    public static func quote(_ value: String) -> String {
        var result = "'"
        for scalar in value.unicodeScalars {
            if scalar == "'" {
                result += "'\\''"
            } else if UntrustedText.isUnsafe(scalar) {
                result += "?"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "'"
    }

    /// Whether `value` had characters ``quote(_:)`` replaced.
    public static func hasUnsafeCharacters(_ value: String) -> Bool { value.unicodeScalars.contains(where: UntrustedText.isUnsafe) }
}
