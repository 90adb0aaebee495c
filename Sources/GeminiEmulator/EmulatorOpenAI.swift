import Foundation
import OnbrandBudget

extension EmulatorEngine {
    /// `POST …/chat/completions` with Bearer auth (spec §7): the standard OpenAI request and
    /// answer, text only. Gemini-only options go under `extra_body.google`; a bare top-level
    /// `google` key is refused as the API refuses it. The answer is alt text for the image or
    /// product the messages describe, ending in an `ALT:` line, which is what Onbrand asks for.
    func openAIChat(authorization: String?, body: Data) async -> EmulatorResponse {
        let wrapped = Self.wrappedInArray
        if let refused = bearerRefusal(authorization) { return refused }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return wrapped(error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object at the top level."))
        }
        let known: Set<String> = [
            "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "stream", "stop", "seed",
            "reasoning_effort", "response_format", "extra_body", "user", "presence_penalty", "frequency_penalty",
        ]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            return wrapped(error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"\(unknown)\": Cannot find field."))
        }
        guard let model = object["model"] as? String, let messages = object["messages"] as? [[String: Any]], !messages.isEmpty else {
            return wrapped(error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. chat/completions needs \"model\" and \"messages\"."))
        }
        guard let profile = configuration.models.profile(model.hasPrefix("models/") ? String(model.dropFirst(7)) : model) else {
            return wrapped(error(404, "NOT_FOUND", "models/\(model) is not found."))
        }
        var texts: [String] = []
        var images = 0
        for message in messages {
            if let content = message["content"] as? String {
                texts.append(content)
            } else if let parts = message["content"] as? [[String: Any]] {
                for part in parts {
                    switch part["type"] as? String {
                    case "text": texts.append(part["text"] as? String ?? "")
                    case "image_url": images += 1
                    default:
                        return wrapped(error(400, "INVALID_ARGUMENT", "Invalid content part type \(part["type"] ?? "none"); use text or image_url."))
                    }
                }
            }
        }
        let prompt = texts.joined(separator: "\n")
        let answer = "ALT: \(Self.altText(from: prompt))"
        let promptTokens = TokenEstimator.gemini.estimate(prompt) + images * profile.inputImageTokens
        let completionTokens = TokenEstimator.gemini.estimate(answer)
        return json(
            200,
            [
                "id": "chatcmpl-" + Self.digest(body), "object": "chat.completion", "created": 1_767_225_600, "model": profile.id,
                "choices": [["index": 0, "message": ["role": "assistant", "content": answer], "finish_reason": "stop"]],
                "usage": ["prompt_tokens": promptTokens, "completion_tokens": completionTokens, "total_tokens": promptTokens + completionTokens],
            ])
    }
}
