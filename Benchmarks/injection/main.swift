// Hand-run throughput check of the prompt-injection detector (not part of `swift test`); see run.sh.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)  // CPU time of this thread: robust on a shared machine
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let arguments = CommandLine.arguments
let count = arguments.count > 2 ? Int(arguments[2]) ?? 1_000_000 : 1_000_000
struct Row: Decodable { var text: String }
let lines = try String(contentsOfFile: arguments[1], encoding: .utf8).split(separator: "\n")
var templates = try lines.map { try JSONDecoder().decode(Row.self, from: Data($0.utf8)).text }
templates += [
    "How do I reset my online banking password?", "What is the daily limit for card payments?",
    "Please don't ignore the previous email about security; summarize it.", "Can you summarise the new terms & conditions?",
    "Wie kann ich mein Passwort ändern?", "Is there a fee for withdrawing cash abroad?",
]
// All prompts in one buffer; each is a view of it, as a segment lends its text column.
var buffer: [UInt8] = []
var bounds: [Range<Int>] = []
bounds.reserveCapacity(count)
for index in 0..<count {
    let text = templates[(index &* 7919) % templates.count] + " #\(index)"
    let start = buffer.count
    buffer.append(contentsOf: text.utf8)
    bounds.append(start..<buffer.count)
}
let megabytes = Double(buffer.count) / 1e6
let model = InjectionModel.shipped
print("prompts: \(count), prompt text: \(String(format: "%.1f", megabytes)) MB (mean \(buffer.count / count) bytes)")
buffer.withUnsafeBytes { raw in
    let all = ByteView(unsafeStart: raw.baseAddress, count: raw.count)
    for round in 1...3 {
        var flagged = 0
        var checksum = 0.0
        let start = cpuSeconds()
        for range in bounds {
            let logit = model.logit(all[range])
            checksum += logit
            if 1 / (1 + exp(-logit)) >= model.threshold { flagged += 1 }
        }
        let seconds = cpuSeconds() - start
        print("round \(round): \(String(format: "%.2f", seconds)) s CPU, \(String(format: "%.0f", megabytes / seconds)) MB/s, "
            + "\(String(format: "%.2f", Double(count) / seconds / 1e6)) M prompts/s, flagged \(flagged) (checksum \(checksum))")
    }
}
