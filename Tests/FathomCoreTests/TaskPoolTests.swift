import Foundation
import Testing
import FathomSupport

/// The shared worker threads: every iteration runs once, nested loops finish, no iteration runs
/// after its loop returned (the loop's body is lent only until then).
@Suite struct TaskPoolTests {
    final class Counts: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [String: Int] = [:]
        private var active = 0
        private(set) var peak = 0

        func enter() { lock.withLock { active += 1; peak = max(peak, active) } }
        func leave() { lock.withLock { active -= 1 } }
        func add(_ key: String) { lock.withLock { counts[key, default: 0] += 1 } }
        var all: [String: Int] { lock.withLock { counts } }
    }

    @Test func everyIterationOfNestedLoopsRunsOnceBeforeItsLoopReturns() {
        let counts = Counts()
        for round in 0..<50 {
            TaskPool.shared.apply(count: 6, width: 2) { outer in
                TaskPool.shared.apply(count: 5, width: 2) { inner in
                    counts.enter()
                    // Some work, so that iterations overlap.
                    var x: UInt64 = UInt64(outer * 31 + inner + 1)
                    for _ in 0..<2_000 { x ^= x << 13; x ^= x >> 7; x ^= x << 17 }
                    counts.add("\(round)/\(outer)/\(inner)/\(x & 1 == 2 ? "never" : "ok")")
                    counts.leave()
                }
                counts.add("\(round)/\(outer)")
            }
            // Everything of this round is done when apply returns.
            let done = counts.all.keys.filter { $0.hasPrefix("\(round)/") }.count
            #expect(done == 6 * 5 + 6)
        }
        #expect(counts.all.values.allSatisfy { $0 == 1 })
    }

    @Test func widthOneRunsInOrderOnTheCallingThread() {
        var order: [Int] = []
        TaskPool.shared.apply(count: 5, width: 1) { order.append($0) }
        #expect(order == [0, 1, 2, 3, 4])
    }

    @Test func anIdleThreadHelpsWithAnotherLoopsIterations() {
        // Two outer iterations on two threads: one ends at once, the other, once both have started,
        // runs an inner loop of slow iterations. The first thread, idle, runs some of them (the
        // inner loop is nested in the outer one it waits for). Tests running beside this one can
        // keep the pool's thread busy for a while, so the scene is played up to five times.
        var helped = false
        for _ in 0..<5 where !helped {
            let threads = Counts()
            TaskPool.shared.apply(count: 2, width: 2) { outer in
                guard outer == 1 else { return }
                Thread.sleep(forTimeInterval: 0.03)
                TaskPool.shared.apply(count: 8, width: 2) { _ in
                    threads.add("\(pthread_self())")
                    Thread.sleep(forTimeInterval: 0.02)
                }
            }
            helped = threads.all.count == 2
        }
        #expect(helped, "the inner loop ran on both threads")
    }
}
