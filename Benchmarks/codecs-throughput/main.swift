// Hand-run throughput check for the FathomStore codecs (not part of `swift test`).
// Build and run with ./run.sh from this folder. Compiled into one module together with the
// codec sources, so it uses the same code the package builds (with -Ounchecked, as the package's
// release configuration does for FathomStore).

#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)  // CPU time: robust on a shared machine
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

// CloudTrail-like S3 data events and gateway access lines, ~700 bytes each.
var rng = SystemRandomNumberGenerator()
var text = ""
let ops = ["GetObject", "PutObject", "ListObjects", "DeleteObject"]
for i in 0..<60_000 {
    let ip = "\(UInt8.random(in: 1...250, using: &rng)).\(UInt8.random(in: 0...255, using: &rng)).0.\(i % 250)"
    text += #"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA\#(i % 977)EXAMPLE","arn":"arn:aws:iam::123456789012:user/svc-\#(i % 31)","accountId":"123456789012","accessKeyId":"AKIA\#(i)EXAMPLE","userName":"svc-\#(i % 31)"},"eventTime":"2024-03-05T12:\#(10 + i % 50):\#(10 + i % 49)Z","eventSource":"s3.amazonaws.com","eventName":"\#(ops[i % 4])","awsRegion":"us-east-1","sourceIPAddress":"\#(ip)","userAgent":"[aws-cli/2.15.0 Python/3.11.6 Linux/5.15 exe/x86_64.ubuntu.22]","requestParameters":{"bucketName":"ml-models-prod","Host":"ml-models-prod.s3.us-east-1.amazonaws.com","key":"models/fraud/v\#(i % 9)/weights.safetensors"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","bytesTransferredIn":0,"bytesTransferredOut":\#(i * 37 % 1000000),"x-amz-id-2":"Zm9vYmFyYmF6\/cXV4"},"requestID":"\#(i)ABCDEF","eventID":"0c1e-\#(i)","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"123456789012"}"# + "\n"
}
let input = Array(text.utf8)
let megabytes = Double(input.count) / 1e6
print("input: \(input.count) bytes, 60000 records")

func bench(_ name: String, rounds: Int = 5, _ body: (ByteView) -> Int) {
    input.withUnsafeBytes { raw in
        let view = ByteView(unsafeStart: raw.baseAddress, count: raw.count)
        var best = Double.infinity
        var check = 0
        for _ in 0..<rounds {
            let start = now()
            check &+= body(view)
            best = min(best, now() - start)
        }
        print("\(name): \(Int(megabytes / best)) MB/s (best of \(rounds), checksum \(check))")
    }
}

let framer = RecordFramer()
bench("frame lines only") { view in
    var n = 0
    var offset = 0
    while offset < view.count {
        let end = min(view.count, offset + (4 << 20))
        framer.feed(view[offset..<end]) { event in if case .record = event { n += 1 } }
        offset = end
    }
    framer.finish { _ in }
    return n
}

let parser = JSONParser()
bench("frame + parse") { view in
    var n = 0
    framer.feed(view) { event in
        guard case let .record(record, _) = event, let document = try? parser.parse(record) else { return }
        n &+= document.root.count
    }
    framer.finish { _ in }
    return n
}

bench("frame + parse + 10 lookups + time") { view in
    var n = 0
    framer.feed(view) { event in
        guard case let .record(record, _) = event, let document = try? parser.parse(record) else { return }
        let root = document.root
        if let t = root["eventTime"]?.withDecodedString({ TimeParser.parse($0) }) { n &+= Int(truncatingIfNeeded: t ?? 0) }
        n &+= root["eventName"]?.withDecodedString { $0.count } ?? 0
        n &+= root["sourceIPAddress"]?.withDecodedString { TextCodecs.address(ofEndpoint: $0).count } ?? 0
        n &+= root["userAgent"]?.withDecodedString { $0.count } ?? 0
        n &+= root.value(atPath: ["userIdentity", "arn"])?.withDecodedString { $0.count } ?? 0
        n &+= root.value(atPath: ["userIdentity", "accessKeyId"])?.withDecodedString { $0.count } ?? 0
        n &+= root.value(atPath: ["requestParameters", "bucketName"])?.withDecodedString { $0.count } ?? 0
        n &+= root.value(atPath: ["requestParameters", "key"])?.withDecodedString { $0.count } ?? 0
        n &+= Int(root.value(atPath: ["additionalEventData", "bytesTransferredOut"])?.int64 ?? 0)
        n &+= root["readOnly"]?.bool == true ? 1 : 0
        n &+= root["eventType"]?.withDecodedString { $0.count } ?? 0
    }
    framer.finish { _ in }
    return n
}
