import Foundation

/// The process's worker threads, shared by every parallel loop that goes through
/// ``apply(count:width:_:)``: a hunt's rules, and each rule's segment scans inside them.
///
/// `DispatchQueue.concurrentPerform` called inside another one divides the machine's width by its
/// nesting depth: on two cores, the segment scans of a rule running beside another rule get one
/// thread, and once the other rule ends its core stays idle while this one scans alone (a week's
/// hunt spent its last second that way). Here a loop's iterations are tasks on one shared stack:
/// the calling thread runs them too, a thread waiting for its loop runs any task of that loop or of
/// loops started inside it (never unrelated work, so a lock it holds cannot deadlock it), and every
/// thread takes the outermost task it may (the next rule before another rule's segments, so each
/// core works on a rule of its own while there are rules to start, as before) and the rules' segments
/// once no rule is left to start, so no core idles while another scans. No more threads run than
/// the widest loop asked for: the caller plus `width - 1` pool threads.
package final class TaskPool: @unchecked Sendable {
    package static let shared = TaskPool()

    /// One loop: its parent (the loop whose task started it) and its iterations not yet done.
    private final class Loop {
        let parent: Loop?
        /// Loops it is nested in.
        let depth: Int
        var remaining: Int

        init(parent: Loop?, remaining: Int) {
            self.parent = parent
            depth = (parent?.depth ?? -1) + 1
            self.remaining = remaining
        }

        /// Whether this loop is `other` or was started (at any depth) inside one of its tasks.
        func descends(from other: Loop) -> Bool {
            var loop: Loop? = self
            while let current = loop {
                if current === other { return true }
                loop = current.parent
            }
            return false
        }
    }

    private struct Task {
        let loop: Loop
        let index: Int
        let body: (Int) -> Void
    }

    private let condition = NSCondition()
    /// Tasks not started yet, in the order they were added.
    private var tasks: [Task] = []
    private var threads = 0
    /// Stack of each pool thread (what a GCD worker thread has, with room for deep recursion).
    private static let stackSize = 8 << 20
    private static let loopKey = "fathom.TaskPool.loop"

    /// Calls `body(index)` for every index in `0 ..< count`, on up to `width` threads (the calling
    /// one included), and returns when every call has returned. Indexes start in ascending order.
    /// With `width` 1 the calls run here, one after another.
    package func apply(count: Int, width: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        guard width > 1, count > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        ensureThreads(width - 1)
        withoutActuallyEscaping(body) { body in
            let loop = Loop(parent: Self.currentLoop, remaining: count)
            condition.lock()
            for index in 0..<count { tasks.append(Task(loop: loop, index: index, body: body)) }
            condition.broadcast()
            while loop.remaining > 0 {
                if let position = next(within: loop) {
                    runTask(at: position)
                } else {
                    condition.wait()
                }
            }
            condition.unlock()
        }
    }

    /// The position of the task to run next: the first of the outermost loop among the tasks of
    /// `loop` and of the loops inside it (any loop's without one). The caller holds the lock.
    private func next(within loop: Loop?) -> Int? {
        var best: Int?
        for position in tasks.indices {
            let candidate = tasks[position].loop
            if let loop, !candidate.descends(from: loop) { continue }
            if best == nil || candidate.depth < tasks[best!].loop.depth { best = position }
        }
        return best
    }

    /// The loop whose task this thread is running, if any.
    private static var currentLoop: Loop? {
        get { Thread.current.threadDictionary[loopKey] as? Loop }
        set { Thread.current.threadDictionary[loopKey] = newValue }
    }

    /// Takes the task at `position` and runs it, the lock released meanwhile; called and returns
    /// with the lock held. The task's body is released before its loop is told it is done: the
    /// loop's caller lends it only until then.
    private func runTask(at position: Int) {
        var task: Task? = tasks.remove(at: position)
        condition.unlock()
        let loop = task!.loop
        let previous = Self.currentLoop
        Self.currentLoop = loop
        task!.body(task!.index)
        task = nil
        Self.currentLoop = previous
        condition.lock()
        loop.remaining -= 1
        if loop.remaining == 0 { condition.broadcast() }
    }

    private func ensureThreads(_ wanted: Int) {
        condition.lock()
        defer { condition.unlock() }
        while threads < wanted {
            threads += 1
            let thread = Thread { [unowned self] in self.work() }
            thread.stackSize = Self.stackSize
            thread.start()
        }
    }

    /// A pool thread: the next task of any loop, for ever.
    private func work() {
        condition.lock()
        while true {
            if let position = next(within: nil) {
                runTask(at: position)
            } else {
                condition.wait()
            }
        }
    }
}
