public import Foundation

/// What the run needs from a provider: one image call, and the model's input limit when the
/// provider can tell. The native ``GeminiClient`` and the ``OpenAICompatibleClient`` both serve.
public protocol ImageGenerating: Sendable {
    func generateContent(model: String, request: GenerateContentRequest) async throws(GeminiError) -> GenerateContentResponse
    /// The model's input token limit, or `nil` when the provider does not say.
    func inputTokenLimit(model: String) async -> Int?
}

extension GeminiClient: ImageGenerating {
    public func inputTokenLimit(model: String) async -> Int? {
        try? await self.model(model).inputTokenLimit
    }
}

/// Providers that count a request's tokens exactly (`countTokens`), for requests whose estimate
/// lands near the model's limit.
public protocol TokenCounting: Sendable {
    func countTokens(model: String, request: GenerateContentRequest) async throws(GeminiError) -> Int
}

extension GeminiClient: TokenCounting {}

/// Providers that keep files (the Files API), so a run uploads each brand image once and every
/// request refers to it.
public protocol FileStoring: Sendable {
    /// Makes sure `files/{id}` exists and is active, uploading `data` when it does not. Callers
    /// derive `id` from the content, so an existing file of that name holds the same bytes.
    func ensureFile(id: String, data: Data, mimeType: String, displayName: String?) async throws(GeminiError) -> FileResource
}

extension GeminiClient: FileStoring {
    public func ensureFile(id: String, data: Data, mimeType: String, displayName: String?) async throws(GeminiError) -> FileResource {
        do {
            var existing = try await file(id)
            // Images are usually active at once; wait briefly for one still processing.
            for _ in 0..<10 where existing.state == .processing {
                try? await Task.sleep(for: .seconds(1))
                existing = try await file(id)
            }
            if existing.state == .active { return existing }
        } catch let error where error.status == 403 || error.status == 404 {
            // Not there (or expired): upload it below.
        }
        do {
            return try await uploadFile(data, mimeType: mimeType, id: id, displayName: displayName)
        } catch let error where error.status == 409 {
            // Another run uploaded the same bytes (the name is their hash) at the same moment.
            return try await file(id)
        }
    }
}

/// Providers with Batch mode (half price, results within a day): the run submits JSONL jobs.
public protocol BatchSubmitting: Sendable {
    func uploadFile(_ data: Data, mimeType: String, id: String?, displayName: String?) async throws(GeminiError) -> FileResource
    func createBatch(model: String, batch: GenerateContentBatch) async throws(GeminiError) -> BatchOperation
    func batch(_ name: String) async throws(GeminiError) -> BatchOperation
    func downloadFile(_ name: String) async throws(GeminiError) -> Data
}

extension GeminiClient: BatchSubmitting {}
