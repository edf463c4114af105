import FathomStore

/// What a value folds into (``ValueFolding``): a 64-bit value of some kind, for an address its
/// network's prefix (kind 4: the /24 of an IPv4 address; 6: the /64 of an IPv6 one).
package struct ValueFoldKey: Hashable, Sendable {
    package var kind: UInt8
    package var value: UInt64
}

/// How the values of a key column fold into groups of several: a value's group, read from its
/// bytes (nil: it folds into none), and a group's name, made from its key only when the group is
/// named. Two values fold together exactly when their keys are equal.
package struct ValueFolding: Sendable {
    package let key: @Sendable (ByteView) -> ValueFoldKey?
    package let name: @Sendable (ValueFoldKey) -> String

    package init(key: @escaping @Sendable (ByteView) -> ValueFoldKey?, name: @escaping @Sendable (ValueFoldKey) -> String) {
        self.key = key
        self.name = name
    }
}
