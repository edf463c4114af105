import Foundation

/// A table over the Basic Multilingual Plane made a block of 256 scalars at a time, the first
/// time a scalar of the block is asked for; safe to read from any thread.
package final class PlaneBlocks<Block: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var blocks = [Block?](repeating: nil, count: 256)
    private let make: @Sendable (Int) -> Block

    package init(_ make: @escaping @Sendable (Int) -> Block) { self.make = make }

    /// Block `number` (0 to 255).
    package func block(_ number: Int) -> Block {
        lock.lock()
        let known = blocks[number]
        lock.unlock()
        if let known { return known }
        // Made outside the lock (making a block may read another table); two threads that
        // race make it alike, and the first one kept is the one every reader gets.
        let made = make(number)
        lock.lock()
        defer { lock.unlock() }
        if let raced = blocks[number] { return raced }
        blocks[number] = made
        return made
    }
}

/// Reads a ``PlaneBlocks`` of values scalar by scalar, keeping the last block it read (the
/// scalars of a text mostly share a few blocks): the table's lock once per block change.
package struct PlaneBlockReader {
    private let table: PlaneBlocks<[UInt32]>
    private var number = -1
    private var block: [UInt32] = []

    package init(_ table: PlaneBlocks<[UInt32]>) { self.table = table }

    /// The value of `value`, a scalar of the Basic Multilingual Plane.
    package subscript(value: UInt32) -> UInt32 {
        mutating get {
            let wanted = Int(value >> 8)
            if wanted != number {
                block = table.block(wanted)
                number = wanted
            }
            return block[Int(value & 0xFF)]
        }
    }
}
