import Foundation
import GeminiKit
import OnbrandBudget

/// Batch jobs (spec §4): created pending, run after ``EmulatorConfiguration/batchDelay``, results
/// inline or in a generated JSONL file, cancellable, deletable.
actor BatchStore {
    private var operations: [String: BatchOperation] = [:]
    private var order: [String] = []
    private var counter: UInt64 = 0

    func nextID() -> String {
        counter += 1
        var random = SplitMix64(seed: counter &* 0xD1B5_4A32_D192_ED03)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<32).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
    }

    func operation(_ id: String) -> BatchOperation? { operations[id] }

    func store(_ operation: BatchOperation, id: String) {
        if operations[id] == nil { order.append(id) }
        operations[id] = operation
    }

    func remove(_ id: String) -> Bool {
        order.removeAll { $0 == id }
        return operations.removeValue(forKey: id) != nil
    }

    func list() -> [BatchOperation] { order.compactMap { operations[$0] } }

    /// Moves a batch on unless it was cancelled or deleted meanwhile; returns whether it did.
    func transition(_ id: String, _ change: (inout BatchOperation) -> Void) -> Bool {
        guard var operation = operations[id], !(operation.metadata?.state?.isTerminal ?? false) else { return false }
        change(&operation)
        operations[id] = operation
        return true
    }
}

extension EmulatorEngine {
    private static let batchType = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
    private static let outputType = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"

    /// `POST /{v}/models/{m}:batchGenerateContent` with `{"batch": {…}}`.
    func createBatch(_ profile: ModelProfile, body: Data) async -> EmulatorResponse {
        struct Envelope: Decodable { var batch: GenerateContentBatch? }
        let envelope: Envelope
        do { envelope = try WireCoding.decoder().decode(Envelope.self, from: body) } catch {
            return self.error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. \(error)")
        }
        guard let batch = envelope.batch else { return error(400, "INVALID_ARGUMENT", "* BatchGenerateContentRequest.batch: batch is required\n") }
        guard let displayName = batch.displayName, !displayName.isEmpty else {
            return error(400, "INVALID_ARGUMENT", "* BatchGenerateContentRequest.batch.display_name: display_name is required\n")
        }
        // Each input line as a key and the request's JSON, so every request is checked as generateContent checks it.
        var inputs: [(key: String?, body: Data)] = []
        if let requests = batch.inputConfig?.requests?.requests {
            for request in requests {
                inputs.append((request.metadata?["key"], (try? WireCoding.encoder().encode(request.request)) ?? Data()))
            }
        } else if let fileName = batch.inputConfig?.fileName {
            let id = fileName.hasPrefix("files/") ? String(fileName.dropFirst(6)) : fileName
            guard let stored = await files.file(id) else {
                return error(403, "PERMISSION_DENIED", "You do not have permission to access the File \(id) or it may not exist.")
            }
            for (number, line) in stored.data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let request = object["request"] else {
                    return error(400, "INVALID_ARGUMENT", "Line \(number + 1) of files/\(id) is not {\"key\": …, \"request\": {…}}.")
                }
                let data = (try? JSONSerialization.data(withJSONObject: request)) ?? Data()
                inputs.append((object["key"] as? String, data))
            }
        } else {
            return error(400, "INVALID_ARGUMENT", "* BatchGenerateContentRequest.batch.input_config: give requests or file_name\n")
        }
        guard !inputs.isEmpty else { return error(400, "INVALID_ARGUMENT", "* The batch has no requests.\n") }
        if batch.inputConfig?.requests != nil, body.count > 20 << 20 {
            return error(400, "INVALID_ARGUMENT", "Inline batch requests must total at most 20 MB; upload a JSONL file instead.")
        }

        let id = await batches.nextID()
        let now = Self.timestamp(Date())
        var metadata = batch
        metadata.name = "batches/\(id)"
        metadata.model = "models/\(profile.id)"
        metadata.createTime = now
        metadata.updateTime = now
        metadata.state = .pending
        metadata.batchStats = BatchStats(requestCount: String(inputs.count), pendingRequestCount: String(inputs.count))
        let operation = BatchOperation(name: "batches/\(id)", metadata: metadata)
        await batches.store(operation, id: id)
        let inline = batch.inputConfig?.requests != nil
        Task { await self.runBatch(id: id, profile: profile, inputs: inputs, inline: inline) }
        return json(200, operationObject(operation, includeInlined: true))
    }

    private func runBatch(id: String, profile: ModelProfile, inputs: [(key: String?, body: Data)], inline: Bool) async {
        try? await Task.sleep(for: configuration.batchDelay)
        guard await batches.transition(id, { $0.metadata?.state = .running }) else { return }
        var responses: [BatchOutput.InlinedResponse] = []
        var lines = Data()
        var succeeded = 0
        for input in inputs {
            let answer = await generate(profile, body: input.body, streaming: false, inBatch: true)
            var item = BatchOutput.InlinedResponse()
            if answer.status == 200, answer.fault != .truncatedBody, let response = try? WireCoding.decoder().decode(GenerateContentResponse.self, from: answer.body) {
                item.response = response
                succeeded += 1
            } else {
                item.error = (try? WireCoding.decoder().decode(APIErrorEnvelope.self, from: answer.body))?.error
                    ?? APIErrorEnvelope.Status(code: 500, message: "Internal error encountered.", status: "INTERNAL")
            }
            if inline {
                item.metadata = input.key.map { ["key": $0] }
                responses.append(item)
            } else {
                let line = BatchResponseLine(key: input.key, response: item.response, error: item.error)
                lines += ((try? WireCoding.encoder().encode(line)) ?? Data()) + Data("\n".utf8)
            }
        }
        var output = BatchOutput()
        if inline {
            output.inlinedResponses = .init(inlinedResponses: responses)
        } else {
            let fileID = "batch-\(id)"
            let resource = fileResource(id: fileID, version: "v1beta", displayName: fileID, mimeType: "application/jsonl", data: lines, source: "GENERATED")
            await files.store(.init(resource: resource, data: lines, expires: .now + configuration.fileLifetime), id: fileID)
            output.responsesFile = "files/\(fileID)"
        }
        let finished = Self.timestamp(Date())
        _ = await batches.transition(id) { operation in
            operation.metadata?.state = .succeeded
            operation.metadata?.updateTime = finished
            operation.metadata?.endTime = finished
            operation.metadata?.output = output
            operation.metadata?.batchStats = BatchStats(
                requestCount: String(inputs.count), successfulRequestCount: succeeded > 0 ? String(succeeded) : nil,
                failedRequestCount: inputs.count > succeeded ? String(inputs.count - succeeded) : nil)
            operation.done = true
            operation.response = output
        }
    }

    /// `GET /{v}/batches`, `GET|DELETE /{v}/batches/{id}`, `POST /{v}/batches/{id}:cancel`.
    func batchesRoute(method: String, components: [String], query: [String: String]) async -> EmulatorResponse {
        if components.count == 2 {
            guard method == "GET" else { return error(405, "METHOD_NOT_ALLOWED", "Create batches with models/{model}:batchGenerateContent.") }
            let pageSize = min(max(Int(query["pageSize"] ?? "50") ?? 50, 1), 1000)
            let start = min(max(Int(query["pageToken"] ?? "0") ?? 0, 0), 1 << 40)
            let all = await batches.list()
            // The list does not carry inlined responses (spec §4.3); get does.
            var answer: [String: Any] = ["operations": all.dropFirst(start).prefix(pageSize).map { operationObject($0, includeInlined: false) }]
            if start < all.count - pageSize { answer["nextPageToken"] = String(start + pageSize) }
            return json(200, answer)
        }
        let tail = components[2...].joined(separator: "/")
        let parts = tail.split(separator: ":", maxSplits: 1).map(String.init)
        let id = parts[0]
        guard let operation = await batches.operation(id) else {
            return error(404, "NOT_FOUND", "Requested entity was not found.")
        }
        switch (method, parts.count == 2 ? parts[1] : nil) {
        case ("GET", nil): return json(200, operationObject(operation, includeInlined: true))
        case ("DELETE", nil), (_, "delete"):
            _ = await batches.remove(id)
            return json(200, [String: Any]())
        case (_, "cancel"):
            let now = Self.timestamp(Date())
            _ = await batches.transition(id) { operation in
                operation.metadata?.state = .cancelled
                operation.metadata?.updateTime = now
                operation.metadata?.endTime = now
                operation.done = true
                operation.error = APIErrorEnvelope.Status(code: 1, message: "The batch was cancelled.", status: "CANCELLED")
            }
            return json(200, [String: Any]())
        default: return error(405, "METHOD_NOT_ALLOWED", "Use GET, DELETE or :cancel on a batch.")
        }
    }

    /// The Operation as the API writes it, with the `@type` of its metadata and response.
    private func operationObject(_ operation: BatchOperation, includeInlined: Bool) -> [String: Any] {
        var operation = operation
        if !includeInlined {
            operation.response?.inlinedResponses = nil
            operation.metadata?.output?.inlinedResponses = nil
        }
        var object = Self.object(operation) as? [String: Any] ?? [:]
        if var metadata = object["metadata"] as? [String: Any] {
            metadata["@type"] = Self.batchType
            object["metadata"] = metadata
        }
        if var response = object["response"] as? [String: Any] {
            response["@type"] = Self.outputType
            object["response"] = response
        }
        return object
    }
}
