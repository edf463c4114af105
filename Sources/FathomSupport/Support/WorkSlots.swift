import Foundation
import FathomStore

/// The results of parallel workers: work items are claimed in order, one at a time, and the
/// results come back in input order whichever worker finished first.
package final class WorkSlots<Value, Failure: Error>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var slots: [Result<Value, Failure>?]

    package init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// The next unclaimed position, or nil when every item is taken.
    package func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < slots.count else { return nil }
        next += 1
        return next - 1
    }

    package func store(_ index: Int, _ result: Result<Value, Failure>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    /// Every slot in input order (nil for an item never finished).
    package var all: [Result<Value, Failure>?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }

    /// Every slot in input order, moved out: the slots are empty afterwards, so a caller that
    /// releases each value once it is used holds it once.
    package func takeAll() -> [Result<Value, Failure>?] {
        lock.lock()
        defer { lock.unlock() }
        var taken: [Result<Value, Failure>?] = Array(repeating: nil, count: slots.count)
        swap(&taken, &slots)
        return taken
    }
}
