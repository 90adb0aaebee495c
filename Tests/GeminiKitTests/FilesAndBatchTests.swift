import Foundation
import GeminiEmulator
import GeminiKit
import OnbrandTestSupport
import Testing

/// The Files API, Batch mode, the OpenAI chat surface and dropped connections, end to end:
/// GeminiKit against the emulator on loopback.
@Suite struct FilesAndBatchTests {
    static func client(_ emulator: RunningEmulator) -> GeminiClient {
        GeminiClient(configuration: .init(apiKey: "k", baseURL: emulator.baseURL, retry: GeminiClientTests.fastRetries))
    }

    @Test func uploadsNamedFilesAndUsesThemInRequests() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let client = Self.client(emulator)
        let bytes = Data((0..<20_000).map { UInt8($0 % 251) })
        let file = try await client.uploadFile(bytes, mimeType: "image/png", id: "ob-ref-1", displayName: "reference 1")
        #expect(file.name == "files/ob-ref-1")
        #expect(file.size == bytes.count && file.state == .active && file.source == "UPLOADED")
        #expect(file.uri == "https://generativelanguage.googleapis.com/v1beta/files/ob-ref-1")
        #expect(try await client.file("files/ob-ref-1").sha256Hash == file.sha256Hash)

        // The same name twice is refused; a request naming the file is served, one naming a missing file is not.
        let duplicate = await #expect(throws: GeminiError.self) { try await client.uploadFile(bytes, mimeType: "image/png", id: "ob-ref-1") }
        #expect(duplicate?.status == 409)
        var request = GeminiClientTests.request()
        request.contents[0].parts.append(Part(fileData: .init(mimeType: "image/png", fileUri: file.uri!)))
        #expect(ImageResult(try await client.generateContent(model: "gemini-3.1-flash-image-preview", request: request)).outcome == .success)

        let listed = try await client.listFiles()
        #expect(listed.files.map(\.name) == ["files/ob-ref-1"])
        #expect(try await client.listFiles(pageToken: "-1").files.count == 1, "a hostile page token is clamped, not a crash")
        #expect(try await client.listFiles(pageToken: "9223372036854775807").files.isEmpty)
        try await client.deleteFile("files/ob-ref-1")
        let missing = await #expect(throws: GeminiError.self) {
            try await client.generateContent(model: "gemini-3.1-flash-image-preview", request: request)
        }
        #expect(missing?.status == 403)
        #expect(missing?.message.contains("ob-ref-1") == true)
        let invalid = await #expect(throws: GeminiError.self) { try await client.uploadFile(bytes, mimeType: "image/png", id: "Bad_Name") }
        #expect(invalid?.status == 400)
    }

    @Test func uploadsLargeFilesInChunks() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let bytes = Data(repeating: 7, count: (8 << 20) + 1000)
        let file = try await Self.client(emulator).uploadFile(bytes, mimeType: "application/octet-stream")
        #expect(file.size == bytes.count)
        let posts = await emulator.log.entries.filter { $0.path.hasPrefix("/upload/") }
        #expect(posts.count == 3, "start, one full 8 MiB chunk, the final chunk")
    }

    @Test func expiredFilesAreGone() async throws {
        let emulator = try await EmulatorServer.start(configuration: .init(fileLifetime: .milliseconds(50)))
        defer { Task { await emulator.stop() } }
        let client = Self.client(emulator)
        _ = try await client.uploadFile(Data("x".utf8), mimeType: "text/plain", id: "short-lived")
        try await Task.sleep(for: .milliseconds(100))
        let error = await #expect(throws: GeminiError.self) { try await client.file("short-lived") }
        #expect(error?.status == 403)
    }

    @Test func inlineBatchRunsAndKeepsKeysInOrder() async throws {
        let emulator = try await EmulatorServer.start(configuration: .init(batchDelay: .milliseconds(200)))
        defer { Task { await emulator.stop() } }
        let client = Self.client(emulator)
        let requests = (1...3).map { GenerateContentBatch.InlinedRequest(request: GeminiClientTests.request(ratio: "1:1"), key: "sku-\($0)") }
        let created = try await client.createBatch(
            model: "gemini-3.1-flash-image-preview", batch: GenerateContentBatch(displayName: "test", inputConfig: .init(requests: requests)))
        #expect(created.name.hasPrefix("batches/"))
        #expect(created.metadata?.state == .pending && created.done == nil)
        #expect(created.metadata?.batchStats?.pending == 3)
        let listed = try await client.listBatches()
        #expect(listed.operations.map(\.name) == [created.name])

        let finished = try await client.waitForBatch(created.name, interval: .milliseconds(50))
        #expect(finished.metadata?.state == .succeeded && finished.isDone)
        #expect(finished.metadata?.batchStats?.succeeded == 3)
        let items = finished.response?.inlinedResponses?.inlinedResponses ?? []
        #expect(items.map { $0.metadata?["key"] } == ["sku-1", "sku-2", "sku-3"])
        #expect(items.allSatisfy { ImageResult($0.response!).outcome == .success })
        try await client.deleteBatch(created.name)
        let gone = await #expect(throws: GeminiError.self) { try await client.batch(created.name) }
        #expect(gone?.status == 404)
    }

    @Test func fileBatchWritesAResultsFile() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let client = Self.client(emulator)
        var lines = ""
        for key in ["a", "b"] {
            let request = String(decoding: try WireCoding.encoder().encode(GeminiClientTests.request(ratio: "4:3")), as: UTF8.self)
            lines += "{\"key\":\"\(key)\",\"request\":\(request)}\n"
        }
        let input = try await client.uploadFile(Data(lines.utf8), mimeType: "application/jsonl", displayName: "batch-input")
        let created = try await client.createBatch(
            model: "gemini-3.1-flash-image-preview", batch: GenerateContentBatch(displayName: "file", inputConfig: .init(fileName: input.name)))
        let finished = try await client.waitForBatch(created.name, interval: .milliseconds(20))
        let resultsName = try #require(finished.response?.responsesFile)
        #expect(resultsName == "files/batch-\(created.name.dropFirst(8))")
        let results = try await client.downloadFile(resultsName)
        let decoded = try results.split(separator: UInt8(ascii: "\n")).map { try WireCoding.decoder().decode(BatchResponseLine.self, from: Data($0)) }
        #expect(decoded.map(\.key) == ["a", "b"])
        #expect(decoded.allSatisfy { ImageResult($0.response!).pixelSize.map { [$0.width, $0.height] } == [1200, 896] })
        // Uploaded files cannot be downloaded; generated ones can.
        let refused = await #expect(throws: GeminiError.self) { try await client.downloadFile(input.name) }
        #expect(refused?.status == 400)
    }

    @Test func cancelledBatchEndsCancelled() async throws {
        let emulator = try await EmulatorServer.start(configuration: .init(batchDelay: .seconds(30)))
        defer { Task { await emulator.stop() } }
        let client = Self.client(emulator)
        let created = try await client.createBatch(
            model: "gemini-3.1-flash-image-preview",
            batch: GenerateContentBatch(
                displayName: "c", inputConfig: .init(requests: [.init(request: GeminiClientTests.request(), key: "k1")])))
        try await client.cancelBatch(created.name)
        let operation = try await client.batch(created.name)
        #expect(operation.metadata?.state == .cancelled && operation.isDone)
        #expect(operation.error?.status == "CANCELLED")
    }

    @Test func batchWithoutDisplayNameIsRefused() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        var batch = GenerateContentBatch(displayName: "", inputConfig: .init(requests: [.init(request: GeminiClientTests.request(), key: "x")]))
        batch.displayName = nil
        let error = await #expect(throws: GeminiError.self) {
            try await Self.client(emulator).createBatch(model: "gemini-3.1-flash-image-preview", batch: batch)
        }
        #expect(error?.status == 400)
        #expect(await emulator.log.entries.count == 1, "creating a batch is never retried")
    }

    @Test func droppedConnectionsAreRetried() async throws {
        let emulator = try await EmulatorServer.start(configuration: .init(faults: FaultPlan(argument: "script:dropped,ok")!))
        defer { Task { await emulator.stop() } }
        let response = try await Self.client(emulator).generateContent(model: "gemini-3.1-flash-image-preview", request: GeminiClientTests.request())
        #expect(ImageResult(response).outcome == .success)
        #expect(await emulator.log.entries.map(\.fault) == [.droppedConnection, nil])
    }

    @Test func chatCompletionsGiveAltText() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let client = OpenAICompatibleClient(configuration: .init(apiKey: "k", baseURL: emulator.baseURL + "/v1beta/openai/"))
        let image = Part.Blob(mimeType: "image/png", data: Data([0x89, 0x50, 0x4E, 0x47]).base64EncodedString())
        let text = try await client.chatCompletion(
            model: "gemini-3.1-flash-image-preview", system: "Write alt text.", text: "Product: Trail Runner 2 (ID X).", images: [image])
        #expect(text == "ALT: Trail Runner 2 on a plain background")
        let unauthorised = OpenAICompatibleClient(configuration: .init(apiKey: "", baseURL: emulator.baseURL + "/v1beta/openai"))
        let error = await #expect(throws: GeminiError.self) { try await unauthorised.chatCompletion(model: "gemini-3.1-flash-image-preview", system: nil, text: "x") }
        #expect(error?.status == 401)
    }
}
