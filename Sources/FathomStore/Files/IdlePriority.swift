#if canImport(Glibc)
import Glibc
#endif

/// Background work that may only use a core nothing else wants.
public enum IdlePriority {
    /// Puts the calling thread in Linux's `SCHED_IDLE` class: it runs only on a core no other
    /// thread of the machine is ready to run on, so work started early (re-hashing the report's
    /// archives while the analysis scans) fills the cores the foreground leaves idle without
    /// slowing it. Returns whether the class was set; elsewhere, or when the kernel refuses, the
    /// thread keeps its priority and nothing else changes.
    ///
    /// The corresponding C function is `sched_setscheduler` (thread id 0: the calling thread).
    @discardableResult
    public static func lowerCurrentThread() -> Bool {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 0
        // SCHED_IDLE (5) is behind _GNU_SOURCE in <sched.h>, which the Glibc module does not set.
        return sched_setscheduler(0, 5, &parameters) == 0
        #else
        return false
        #endif
    }
}
