import FathomStore
import FathomSupport

/// Generates object-storage access of one hour: S3 server access log events and Azure Blob
/// resource-log events, background plus the planted artifact exfiltration.
package struct StorageTraffic {
    package let scenario: Scenario

    package static let accountID = "482910374455"

    /// S3 and Azure events of hour `index`, each in time order.
    package func hour(_ index: Int) -> (s3: [StorageEvent], azure: [StorageEvent]) {
        let hourStart = scenario.start + Int64(index) * ScenarioTime.hour
        var rng = Xoshiro256(master: scenario.seed, "storage", numbers: [index])
        var s3: [StorageEvent] = []
        var azure: [StorageEvent] = []
        let s3Count = scenario.rowsInHour(index, total: max(1, scenario.request.scale / 8))
        for _ in 0..<s3Count {
            s3.append(backgroundS3(time: hourStart + Int64(rng.below(3600)) * ScenarioTime.second, rng: &rng))
        }
        let azureCount = scenario.rowsInHour(index, total: max(1, scenario.request.scale / 30))
        // The hourly backup inventory always lists the artifacts container at minute 5.
        azure.append(azureEvent(time: hourStart + 5 * ScenarioTime.minute + Int64(rng.below(1_000_000)) * 100,
                                ip: "10.40.0.12", port: rng.int(in: 40000...60999), principal: "backup-vault@contoso.onmicrosoft.com",
                                operation: "ListBlobs", container: "artifacts", key: nil, status: 200,
                                bytes: rng.int(in: 2000...9000), userAgent: "AzCopy/10.23.0 Linux", auth: "OAuth",
                                label: .background, rng: &rng))
        for _ in 0..<azureCount {
            azure.append(backgroundAzure(time: hourStart + Int64(rng.below(36_000_000_000 / 1)) * 100, rng: &rng))
        }
        let hourEnd = hourStart + ScenarioTime.hour
        for event in plantedEvents() where event.time >= hourStart && event.time < hourEnd {
            if event.isAzure { azure.append(event) } else { s3.append(event) }
        }
        return (Self.sorted(s3), Self.sorted(azure))
    }

    package static func sorted(_ events: [StorageEvent]) -> [StorageEvent] {
        let order = events.indices.sorted { events[$0].time != events[$1].time ? events[$0].time < events[$1].time : $0 < $1 }
        return order.map { events[$0] }
    }

    private func requestID(_ rng: inout Xoshiro256) -> String { rng.hex(16).uppercased() }

    private func s3Event(time: Int64, ip: String, principal: String?, operation: String, bucket: String,
                         key: String?, status: Int, error: String? = nil, size: Int, userAgent: String,
                         auth: String = "AuthHeader", label: ActorLabel, rng: inout Xoshiro256) -> StorageEvent {
        let era: S3LogEra
        switch bucket {
        case "acme-ml-artifacts": era = .current
        case "acme-ml-datasets": era = .tls
        case "acme-ml-logs": era = .hostHeader
        default: era = .legacy
        }
        let sent = status < 300 && operation.hasPrefix("REST.GET") ? (operation == "REST.GET.OBJECT" ? size : rng.int(in: 300...4000)) : (status >= 400 ? 243 : 0)
        return StorageEvent(time: time, srcIP: ip, port: 0, principal: principal, operation: operation,
                            bucket: bucket, key: key, status: status, errorCode: error, bytesSent: sent,
                            objectSize: size, totalTimeMs: rng.int(in: 4...60) + sent / 2_000_000,
                            userAgent: userAgent, isAzure: false, era: era, requestID: requestID(&rng),
                            authType: auth, label: label)
    }

    private func backgroundS3(time: Int64, rng: inout Xoshiro256) -> StorageEvent {
        let u = rng.unit()
        let day = ScenarioTime.dateString(time)
        let role = "arn:aws:sts::\(Self.accountID):assumed-role"
        if u < 0.30 {
            // Training nodes read datasets.
            let ip = "10.20.\(rng.below(8)).\(rng.int(in: 2...250))"
            let key = ["datasets/fraud/\(day)/part-\(rng.int(in: 0...63)).parquet",
                       "datasets/fraud/raw exports/\(day) batch+\(rng.int(in: 1...4)).csv",
                       "features/credit-risk/v7/shard-\(rng.hex(4)).parquet"][rng.below(3)]
            return s3Event(time: time, ip: ip, principal: "\(role)/ml-training-node/i-0\(rng.hex(16))",
                           operation: rng.chance(0.85) ? "REST.GET.OBJECT" : "REST.HEAD.OBJECT",
                           bucket: "acme-ml-datasets", key: key, status: 200, size: rng.int(in: 1...900) * 65536,
                           userAgent: "aws-sdk-java/2.21.29 Linux/5.15 OpenJDK_64-Bit_Server_VM/17.0.9 vendor/Eclipse_Adoptium spark/3.5.0",
                           label: .background, rng: &rng)
        } else if u < 0.50 {
            // Serving pods load model weights (legitimate artifact reads from internal CIDRs).
            let ip = "10.30.\(rng.below(4)).\(rng.int(in: 2...250))"
            let model = ["fraud-detector/v12", "credit-risk/v7", "churn-predictor/v4", "doc-classifier/v3"][rng.below(4)]
            let file = ["model.safetensors", "model.onnx", "config.json", "tokenizer.json", "model.pt"][rng.below(5)]
            return s3Event(time: time, ip: ip, principal: "\(role)/model-server/\(rng.hex(8))",
                           operation: rng.chance(0.8) ? "REST.GET.OBJECT" : "REST.HEAD.OBJECT",
                           bucket: "acme-ml-artifacts", key: "models/\(model)/\(file)", status: 200,
                           size: rng.int(in: 1...400) * 1_048_576, userAgent: "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#5.15.0 lang/python#3.11.7",
                           label: .background, rng: &rng)
        } else if u < 0.62 {
            // Training writes checkpoints.
            let ip = "10.20.\(rng.below(8)).\(rng.int(in: 2...250))"
            let op = rng.chance(0.7) ? "REST.PUT.OBJECT" : (rng.chance(0.5) ? "REST.PUT.PART" : "REST.POST.UPLOADS")
            return s3Event(time: time, ip: ip, principal: "\(role)/ml-training-node/i-0\(rng.hex(16))",
                           operation: op, bucket: "acme-ml-artifacts",
                           key: "checkpoints/fraud-detector/run-\(rng.int(in: 400...420))/epoch=\(rng.int(in: 1...30))-step=\(rng.int(in: 1...90) * 100).ckpt",
                           status: 200, size: rng.int(in: 50...600) * 1_048_576,
                           userAgent: "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#5.15.0 lang/python#3.11.7 lightning/2.2.0",
                           label: .background, rng: &rng)
        } else if u < 0.70 {
            // CI publishes and cleans up artifacts from the build network.
            let ip = "192.168.10.\(rng.int(in: 2...60))"
            let op = rng.chance(0.75) ? "REST.PUT.OBJECT" : "REST.DELETE.OBJECT"
            return s3Event(time: time, ip: ip, principal: "arn:aws:iam::\(Self.accountID):user/ci-deployer",
                           operation: op, bucket: "acme-ml-artifacts",
                           key: ["mlflow/3/\(rng.hex(32))/artifacts/model/model.pkl", "tmp/build-\(rng.hex(6)).tar.gz",
                                 "models/credit-risk/v7/weights.h5"][rng.below(3)],
                           status: 200, size: rng.int(in: 1...200) * 1_048_576, userAgent: "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/s3.cp",
                           label: .background, rng: &rng)
        } else if u < 0.80 {
            // Analysts read reports and list buckets.
            let ip = "10.50.\(rng.below(4)).\(rng.int(in: 2...250))"
            let isList = rng.chance(0.3)
            return s3Event(time: time, ip: ip, principal: "arn:aws:iam::\(Self.accountID):user/analyst-\(rng.int(in: 1...9))",
                           operation: isList ? "REST.GET.BUCKET" : "REST.GET.OBJECT", bucket: "acme-analytics-exports",
                           key: isList ? nil : ["reports/résumé-claims-\(day).pdf", "reports/weekly fraud review.xlsx",
                                                "dashboards/approval-rate-\(day).csv"][rng.below(3)],
                           status: isList || rng.chance(0.97) ? 200 : 404, error: nil, size: rng.int(in: 10...900) * 1024,
                           userAgent: "S3Console/0.4", label: .background, rng: &rng)
        } else if u < 0.86 {
            // A partner downloads its daily scores with presigned URLs from outside (not model artifacts).
            return s3Event(time: time, ip: "52.94.\(rng.int(in: 1...250)).\(rng.int(in: 1...250))", principal: "arn:aws:iam::\(Self.accountID):user/partner-export-signer",
                           operation: "REST.GET.OBJECT", bucket: "acme-analytics-exports",
                           key: "exports/partner-bluebank/daily-scores-\(day).csv", status: 200,
                           size: rng.int(in: 100...900) * 1024, userAgent: "python-requests/2.31.0",
                           auth: "QueryString", label: .background, rng: &rng)
        } else {
            // Log shipping.
            let ip = "10.60.\(rng.below(4)).\(rng.int(in: 2...250))"
            return s3Event(time: time, ip: ip, principal: "\(role)/fluent-bit/\(rng.hex(8))",
                           operation: "REST.PUT.OBJECT", bucket: "acme-ml-logs",
                           key: "gateway/\(day)/\(rng.hex(8)).log.gz", status: 200,
                           size: rng.int(in: 100...4000) * 1024, userAgent: "fluent-bit/2.2.2",
                           label: .background, rng: &rng)
        }
    }

    private func azureEvent(time: Int64, ip: String, port: Int, principal: String?, operation: String,
                            container: String, key: String?, status: Int, bytes: Int, userAgent: String,
                            auth: String, label: ActorLabel, rng: inout Xoshiro256) -> StorageEvent {
        StorageEvent(time: time, srcIP: ip, port: port, principal: principal, operation: operation,
                     bucket: container, key: key, status: status,
                     errorCode: status == 403 ? "AuthorizationPermissionMismatch" : (status == 404 ? "BlobNotFound" : nil),
                     bytesSent: bytes, objectSize: bytes, totalTimeMs: rng.int(in: 3...80), userAgent: userAgent,
                     isAzure: true, era: .current, requestID: "", authType: auth, label: label)
    }

    private func backgroundAzure(time: Int64, rng: inout Xoshiro256) -> StorageEvent {
        let u = rng.unit()
        let port = rng.int(in: 40000...60999)
        if u < 0.45 {
            let ip = "10.40.\(rng.below(8)).\(rng.int(in: 2...250))"
            return azureEvent(time: time, ip: ip, port: port, principal: "svc-training@contoso.onmicrosoft.com",
                              operation: rng.chance(0.8) ? "GetBlob" : "GetBlobProperties", container: "datasets",
                              key: "fraud/\(ScenarioTime.dateString(time))/part-\(rng.int(in: 0...31)).parquet", status: 200,
                              bytes: rng.int(in: 1...64) * 1_048_576, userAgent: "azsdk-python-storage-blob/12.19.0 Python/3.11.7 (Linux-5.15.0-x86_64)",
                              auth: "OAuth", label: .background, rng: &rng)
        } else if u < 0.75 {
            let ip = rng.chance(0.6) ? "10.41.\(rng.below(4)).\(rng.int(in: 2...250))" : "192.168.20.\(rng.int(in: 2...250))"
            let path = ["fraud-detector/v12/model.onnx", "doc-classifier/v3/model.pkl", "credit-risk/v7/weights/model-00001-of-00002.safetensors",
                        "fraud-detector/v12/signature.json"][rng.below(4)]
            return azureEvent(time: time, ip: ip, port: port, principal: "svc-serving@contoso.onmicrosoft.com",
                              operation: "GetBlob", container: "artifacts", key: path, status: 200,
                              bytes: rng.int(in: 1...300) * 1_048_576, userAgent: "azsdk-python-storage-blob/12.19.0 Python/3.11.7 (Linux-5.15.0-x86_64)",
                              auth: "OAuth", label: .background, rng: &rng)
        } else if u < 0.92 {
            let ip = "192.168.20.\(rng.int(in: 2...250))"
            let op = ["PutBlob", "PutBlock", "DeleteBlob"][rng.below(3)]
            return azureEvent(time: time, ip: ip, port: port, principal: "ci-publisher@contoso.onmicrosoft.com",
                              operation: op, container: "scratch", key: "builds/\(rng.hex(8))/report.html", status: op == "DeleteBlob" ? 202 : 201,
                              bytes: 0, userAgent: "AzCopy/10.23.0 Linux", auth: "OAuth", label: .background, rng: &rng)
        } else {
            return azureEvent(time: time, ip: "10.40.0.\(rng.int(in: 2...250))", port: port, principal: nil,
                              operation: "ListBlobs", container: "datasets", key: nil, status: 200,
                              bytes: rng.int(in: 2000...9000), userAgent: "Azure-Storage/12.1.0 (.NET 8.0.1; Linux)",
                              auth: "AccountKey", label: .background, rng: &rng)
        }
    }

    /// The planted artifact accesses, including the near-misses at the edges of the internal ranges.
    package func plantedEvents() -> [StorageEvent] {
        var rng = Xoshiro256(master: scenario.seed, "storage-planted")
        var events: [StorageEvent] = []
        let t0 = scenario.exfilStart / ScenarioTime.second * ScenarioTime.second
        let min = ScenarioTime.minute
        let cli = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/s3.cp"
        let attacker = ActorLabel.attacker(scenario.exfilS3IP)
        let ip = scenario.exfilS3IP
        let who = scenario.exfilS3Requester
        let v13 = "models/fraud-detector/v13/model.safetensors"
        events.append(s3Event(time: t0, ip: ip, principal: who, operation: "REST.GET.BUCKET", bucket: "acme-ml-artifacts",
                              key: nil, status: 200, size: 0, userAgent: cli, label: attacker, rng: &rng))
        events.append(s3Event(time: t0 + 20 * ScenarioTime.second, ip: ip, principal: who, operation: "REST.HEAD.OBJECT",
                              bucket: "acme-ml-artifacts", key: v13, status: 200, size: 328_411_136, userAgent: cli, label: attacker, rng: &rng))
        events.append(s3Event(time: t0 + 25 * ScenarioTime.second, ip: ip, principal: who, operation: "REST.GET.OBJECT_TAGGING",
                              bucket: "acme-ml-artifacts", key: v13, status: 200, size: 0, userAgent: cli, label: attacker, rng: &rng))
        events.append(s3Event(time: t0 + 31 * ScenarioTime.second, ip: ip, principal: who, operation: "REST.GET.OBJECT",
                              bucket: "acme-ml-artifacts", key: v13, status: 403, error: "AccessDenied", size: 328_411_136,
                              userAgent: cli, label: attacker, rng: &rng))
        let downloads: [(Int64, String, Int)] = [
            (5, v13, 328_411_136),
            (7, "models/fraud-detector/v13/model.pt", 331_002_880),
            (9, "models/fraud-detector/v13/model.onnx", 327_155_712),
            (12, "checkpoints/fraud-detector/run-0412/epoch=12-step=3000.ckpt", 985_661_440),
            (15, "models/fraud-detector/v12/model.safetensors", 328_400_000),
            (18, "models/credit-risk/v7/weights.h5", 88_604_672),
        ]
        for (minute, key, size) in downloads {
            events.append(s3Event(time: t0 + minute * min, ip: ip, principal: who, operation: "REST.GET.OBJECT",
                                  bucket: "acme-ml-artifacts", key: key, status: 200, size: size, userAgent: cli,
                                  label: attacker, rng: &rng))
        }
        events.append(s3Event(time: t0 + 26 * min, ip: ip, principal: who, operation: "REST.DELETE.OBJECT",
                              bucket: "acme-ml-artifacts", key: "checkpoints/fraud-detector/run-0412/epoch=12-step=3000.ckpt",
                              status: 204, size: 0, userAgent: cli, label: attacker, rng: &rng))
        events.append(s3Event(time: t0 + 95 * min, ip: ip, principal: who, operation: "REST.GET.OBJECT",
                              bucket: "acme-ml-artifacts", key: v13, status: 200, size: 328_411_136,
                              userAgent: "python-requests/2.31.0", auth: "QueryString", label: attacker, rng: &rng))
        // Near-misses at the edges of 10.0.0.0/8.
        events.append(s3Event(time: t0 + 60 * min + 7 * ScenarioTime.second, ip: scenario.edgeInsideIP,
                              principal: "arn:aws:sts::\(Self.accountID):assumed-role/model-server/edge01",
                              operation: "REST.GET.OBJECT", bucket: "acme-ml-artifacts", key: v13, status: 200,
                              size: 328_411_136, userAgent: "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#5.15.0 lang/python#3.11.7",
                              label: .background, rng: &rng))
        events.append(s3Event(time: t0 + 120 * min + 41 * ScenarioTime.second, ip: scenario.edgeOutsideIP, principal: nil,
                              operation: "REST.GET.OBJECT", bucket: "acme-ml-artifacts",
                              key: "models/credit-risk/v7/model.onnx", status: 403, error: "AccessDenied", size: 0,
                              userAgent: "python-requests/2.31.0", label: .attacker(scenario.edgeOutsideIP), rng: &rng))
        // Azure: the same actor through a leaked SAS token, and the edges of 192.168.0.0/16.
        let sasAgent = "AzCopy/10.23.0 Linux"
        let azureAttacker = ActorLabel.attacker(scenario.exfilAzureIP)
        let a0 = t0 + 40 * min + 1_234_567 * 100
        let azurePlan: [(Int64, String, String?, Int)] = [
            (0, "ListBlobs", nil, 12_288),
            (1, "GetBlobProperties", "fraud-detector/v13/model.onnx", 0),
            (2, "GetBlob", "fraud-detector/v13/model.onnx", 327_155_712),
            (4, "GetBlob", "fraud-detector/v13/weights/model-00001-of-00002.safetensors", 209_715_200),
            (6, "GetBlob", "fraud-detector/v13/weights/model-00002-of-00002.safetensors", 118_696_000),
        ]
        for (minute, op, key, size) in azurePlan {
            events.append(azureEvent(time: a0 + minute * min, ip: scenario.exfilAzureIP, port: rng.int(in: 49152...65535),
                                     principal: nil, operation: op, container: "artifacts", key: key, status: 200,
                                     bytes: size, userAgent: sasAgent, auth: "SAS", label: azureAttacker, rng: &rng))
        }
        events.append(azureEvent(time: a0 + 180 * min, ip: scenario.azureEdgeOutsideIP, port: 443,
                                 principal: nil, operation: "GetBlob", container: "artifacts", key: "doc-classifier/v3/model.pkl",
                                 status: 200, bytes: 4_194_304, userAgent: "python-requests/2.31.0", auth: "SAS",
                                 label: .attacker(scenario.azureEdgeOutsideIP), rng: &rng))
        events.append(azureEvent(time: a0 + 185 * min, ip: scenario.azureEdgeInsideIP, port: 52311,
                                 principal: "svc-serving@contoso.onmicrosoft.com", operation: "GetBlob", container: "artifacts",
                                 key: "fraud-detector/v13/model.onnx", status: 200, bytes: 327_155_712,
                                 userAgent: "azsdk-python-storage-blob/12.19.0 Python/3.11.7 (Linux-5.15.0-x86_64)", auth: "OAuth",
                                 label: .background, rng: &rng))
        return events.filter { $0.time >= scenario.start && $0.time < scenario.end }
    }
}
