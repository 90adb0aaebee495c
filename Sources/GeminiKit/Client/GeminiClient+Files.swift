public import Foundation

/// The Files API (spec §5) and Batch mode (spec §4).
extension GeminiClient {
    /// Uploads bytes with the resumable protocol, in 8 MiB chunks as the SDK sends them.
    ///
    /// `id` names the file (`files/{id}`: at most 40 lower-case letters, digits and dashes); a
    /// name derived from the content lets every run find an image it uploaded before instead of
    /// sending it again. The chunk requests carry no API key: the upload URL authorizes them.
    public func uploadFile(_ data: Data, mimeType: String, id: String? = nil, displayName: String? = nil) async throws(GeminiError) -> FileResource {
        var file: [String: String] = ["mimeType": mimeType]
        if let id { file["name"] = "files/\(id)" }
        if let displayName { file["displayName"] = displayName }
        let metadata = (try? JSONSerialization.data(withJSONObject: ["file": file], options: .sortedKeys)) ?? Data()
        let start = HTTPRequestMessage(
            method: "POST", url: "\(configuration.baseURL.trimmingSuffix("/"))/upload/\(configuration.apiVersion)/files",
            headers: [
                (name: "x-goog-api-key", value: configuration.apiKey), (name: "X-Goog-Upload-Protocol", value: "resumable"),
                (name: "X-Goog-Upload-Command", value: "start"), (name: "X-Goog-Upload-Header-Content-Length", value: String(data.count)),
                (name: "X-Goog-Upload-Header-Content-Type", value: mimeType), (name: "Content-Type", value: "application/json"),
            ], body: metadata)
        let label = id.map { "files/\($0)" } ?? "a file upload"
        let announced = try await send(start, model: label, retrying: true) { response throws(GeminiError) -> String in
            guard let url = response.header("X-Goog-Upload-URL") else {
                throw GeminiError(code: .malformedResponse, status: 200, message: "the upload start gave no X-Goog-Upload-URL", model: label)
            }
            return url
        }
        let uploadURL = Self.rebase(announced, onto: configuration.baseURL)
        let chunkSize = 8 << 20
        var offset = 0
        repeat {
            let end = min(offset + chunkSize, data.count)
            let isLast = end == data.count
            let chunk = HTTPRequestMessage(
                method: "POST", url: uploadURL,
                headers: [
                    (name: "X-Goog-Upload-Command", value: isLast ? "upload, finalize" : "upload"),
                    (name: "X-Goog-Upload-Offset", value: String(offset)),
                ], body: data.subdata(in: offset..<end))
            // A chunk is not idempotent once the server has counted it: no blind retries.
            let answer = try await send(chunk, model: label, retrying: false) { $0 }
            let status = answer.header("X-Goog-Upload-Status")?.lowercased()
            if isLast {
                guard status == "final" else {
                    throw GeminiError(
                        code: .malformedResponse, status: 200, message: "the upload ended with status \(status ?? "none"), not final", model: label)
                }
                struct Answer: Decodable { var file: FileResource }
                return try decode(Answer.self, answer.body, model: label).file
            }
            offset = end
        } while true
    }

    /// `files/{id}` (or `{id}`); an expired or unknown file is a ``GeminiError`` with status 403 or 404.
    public func file(_ name: String) async throws(GeminiError) -> FileResource {
        let path = Self.resourcePath(name, collection: "files")
        return try decode(FileResource.self, try await call(model: path, method: "GET", path: path, body: nil), model: path)
    }

    public func deleteFile(_ name: String) async throws(GeminiError) {
        let path = Self.resourcePath(name, collection: "files")
        _ = try await call(model: path, method: "DELETE", path: path, body: nil)
    }

    public func listFiles(pageSize: Int = 100, pageToken: String? = nil) async throws(GeminiError) -> (files: [FileResource], nextPageToken: String?) {
        try await list(FileResource.self, collection: "files", key: "files", pageSize: pageSize, pageToken: pageToken)
    }

    /// One page of a collection: `{key: [Item], nextPageToken}`.
    private func list<Item: Decodable>(
        _ type: Item.Type, collection: String, key: String, pageSize: Int, pageToken: String?
    ) async throws(GeminiError) -> ([Item], String?) {
        let query = "\(collection)?pageSize=\(pageSize)" + (pageToken.map { "&pageToken=\(Self.queryEscaped($0))" } ?? "")
        let page = try decode(ListPage<Item>.self, try await call(model: collection, method: "GET", path: query, body: nil), model: collection)
        return (page.items[key] ?? [], page.nextPageToken)
    }

    /// The bytes of a generated file (batch results).
    public func downloadFile(_ name: String) async throws(GeminiError) -> Data {
        let path = Self.resourcePath(name, collection: "files")
        return try await call(model: path, method: "GET", path: "\(path):download?alt=media", body: nil)
    }

    // MARK: - Batch mode

    /// Creates a batch at half price. Not retried: creating a batch is not idempotent, and a
    /// second job would be billed twice.
    public func createBatch(model: String, batch: GenerateContentBatch) async throws(GeminiError) -> BatchOperation {
        struct Body: Encodable { var batch: GenerateContentBatch }
        let body: Data
        do { body = try WireCoding.encoder().encode(Body(batch: batch)) } catch {
            throw GeminiError(code: .invalidRequest, status: nil, message: "the batch could not be encoded: \(error)", model: model)
        }
        let data = try await call(model: model, method: "POST", path: "models/\(Self.modelPath(model)):batchGenerateContent", body: body, retrying: false) { $0 }
        return try decode(BatchOperation.self, data, model: model)
    }

    public func batch(_ name: String) async throws(GeminiError) -> BatchOperation {
        let path = Self.resourcePath(name, collection: "batches")
        return try decode(BatchOperation.self, try await call(model: path, method: "GET", path: path, body: nil), model: path)
    }

    public func cancelBatch(_ name: String) async throws(GeminiError) {
        let path = Self.resourcePath(name, collection: "batches")
        _ = try await call(model: path, method: "POST", path: "\(path):cancel", body: Data("{}".utf8))
    }

    public func deleteBatch(_ name: String) async throws(GeminiError) {
        let path = Self.resourcePath(name, collection: "batches")
        _ = try await call(model: path, method: "DELETE", path: path, body: nil)
    }

    public func listBatches(pageSize: Int = 50, pageToken: String? = nil) async throws(GeminiError) -> (operations: [BatchOperation], nextPageToken: String?) {
        try await list(BatchOperation.self, collection: "batches", key: "operations", pageSize: pageSize, pageToken: pageToken)
    }

    /// Polls until the batch reaches a terminal state; `interval` grows to at most a minute.
    public func waitForBatch(_ name: String, interval: Duration = .seconds(5)) async throws(GeminiError) -> BatchOperation {
        var delay = interval
        while true {
            let operation = try await batch(name)
            if operation.isDone || (operation.metadata?.state?.isTerminal ?? false) { return operation }
            do { try await Task.sleep(for: delay) } catch {
                throw GeminiError(code: .transport, status: nil, message: "cancelled while waiting for \(name)", model: name)
            }
            delay = min(delay * 2, .seconds(60))
        }
    }

    // MARK: - Paths

    /// `files/abc`, `abc` → `files/abc`; refuses names that could leave the collection.
    static func resourcePath(_ name: String, collection: String) -> String {
        let id = name.hasPrefix("\(collection)/") ? String(name.dropFirst(collection.count + 1)) : name
        let safe = !id.isEmpty && id.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }
        return "\(collection)/\(safe ? id : "invalid-name")"
    }

    static func queryEscaped(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// The upload URL with its scheme and host replaced by the configured base URL's, as the SDK
    /// does: a gateway or an emulator may announce a host the client cannot reach.
    static func rebase(_ url: String, onto base: String) -> String {
        guard var announced = URLComponents(string: url), let baseComponents = URLComponents(string: base) else { return url }
        announced.scheme = baseComponents.scheme
        announced.host = baseComponents.host
        announced.port = baseComponents.port
        return announced.string ?? url
    }
}

/// A page of any list endpoint: its item arrays by key, and the token for the next page.
private struct ListPage<Item: Decodable>: Decodable {
    var items: [String: [Item]] = [:]
    var nextPageToken: String?

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            if key.stringValue == "nextPageToken" {
                nextPageToken = try container.decode(String.self, forKey: key)
            } else if let values = try? container.decode([Item].self, forKey: key) {
                items[key.stringValue] = values
            }
        }
    }
}
