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
