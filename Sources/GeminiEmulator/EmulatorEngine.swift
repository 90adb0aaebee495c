public import Foundation
import GeminiKit
import OnbrandBudget

/// An HTTP answer from the emulator.
public struct EmulatorResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: Data
    public var fault: Fault?
    /// Extra response headers (the Files API's upload protocol).
    public var headers: [String: String] = [:]
}

/// The emulator's logic, free of HTTP: a request in, an answer out. ``EmulatorServer`` puts it on
/// a socket; tests may call it directly.
///
/// Follows `../shared/spec/gemini-api.md` to the field: both key spellings in, lowerCamelCase out,
/// unknown fields rejected with a BadRequest detail, image sizes and token counts per model.
public final class EmulatorEngine: Sendable {
    public let configuration: EmulatorConfiguration
    public let log = RequestLog()
    private let state = EngineState()
    let files = FileStore()
    private let images = ImageCache()
    let batches = BatchStore()

    public init(configuration: EmulatorConfiguration) {
        self.configuration = configuration
    }

    /// Answers one request. `path` is the URL path; `query` its parameters; `headers` are keyed
    /// by lower-case name.
    public func handle(method: String, path: String, query: [String: String], headers: [String: String], body: Data) async -> EmulatorResponse {
        let response: EmulatorResponse
        let apiKey = headers["x-goog-api-key"] ?? query["key"]
        if path.hasSuffix("/images/generations") {
            response = openAIImages(authorization: headers["authorization"], body: body)
        } else if path.hasSuffix("/chat/completions") {
            response = await openAIChat(authorization: headers["authorization"], body: body)
        } else if path.hasPrefix("/upload/") {
            response = await upload(method: method, path: path, query: query, headers: headers, body: body)
        } else if path.hasPrefix("/download/") {
            response = await download(path: String(path.dropFirst("/download".count)), apiKey: apiKey)
        } else {
            response = await route(method: method, path: path, query: query, apiKey: apiKey, body: body)
        }
        let model = path.split(separator: "/").last.map { String($0.split(separator: ":").first ?? $0) }
        await log.append(
            RequestLog.Entry(
                method: method, path: path, model: model, status: response.status, fault: response.fault,
                bodyDigest: Self.digest(body), text: Self.requestText(body)))
        return response
    }

    private func route(method: String, path: String, query: [String: String], apiKey: String?, body: Data) async -> EmulatorResponse {
        let components = path.split(separator: "/").map(String.init)
        guard components.count >= 2, ["v1", "v1beta", "v1alpha"].contains(components[0]),
            ["models", "files", "batches"].contains(components[1])
        else {
            return error(404, "NOT_FOUND", "The requested URL \(path) was not found on this server.")
        }
        let version = components[0]
        if let failure = authenticate(apiKey) { return failure }
        if components[1] == "files" { return await filesRoute(method: method, components: components, query: query) }
        if components[1] == "batches" { return await batchesRoute(method: method, components: components, query: query) }
        if components.count == 2 {
            guard method == "GET" else { return error(405, "METHOD_NOT_ALLOWED", "Use GET to list models.") }
            return json(200, ["models": configuration.models.profiles.filter { $0.provider == .gemini }.map(modelResource)])
        }
        let last = components[2...].joined(separator: "/")
        let parts = last.split(separator: ":", maxSplits: 1).map(String.init)
        let modelName = parts[0]
        guard let profile = configuration.models.profile(modelName), profile.provider == .gemini else {
            return error(
                404, "NOT_FOUND",
                "models/\(modelName) is not found for API version \(version), or is not supported for generateContent. "
                    + "Call ListModels to see the list of available models and their supported methods.")
        }
        guard parts.count == 2 else {
            guard method == "GET" else { return error(405, "METHOD_NOT_ALLOWED", "Use GET to read a model.") }
            return json(200, modelResource(profile))
        }
        guard method == "POST" else { return error(405, "METHOD_NOT_ALLOWED", "Use POST for \(parts[1]).") }
        switch parts[1] {
        case "generateContent": return await generate(profile, body: body, streaming: false)
        case "streamGenerateContent": return await generate(profile, body: body, streaming: true)
        case "batchGenerateContent": return await createBatch(profile, body: body)
        case "countTokens": return countTokens(profile, body: body)
        default: return error(404, "NOT_FOUND", "Method \(parts[1]) is not supported by this emulator.")
        }
    }

    func authenticate(_ key: String?) -> EmulatorResponse? {
        guard let key, !key.isEmpty else {
            return error(
                403, "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
        }
        if let expected = configuration.apiKey, key != expected {
            return error(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                details: [
                    [
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                        "metadata": ["service": "generativelanguage.googleapis.com"],
                    ]
                ])
        }
        return nil
    }

    // MARK: - generateContent

    func generate(_ profile: ModelProfile, body: Data, streaming: Bool, inBatch: Bool = false) async -> EmulatorResponse {
        let request: GenerateContentRequest
        switch parseRequest(body) {
        case .failure(let response): return response
        case .success(let parsed): request = parsed
        }
        if let invalid = validate(request, for: profile) { return invalid }
        if let missing = await missingFile(in: request) { return missing }
        let inputTokens = countInput(request, profile: profile)
        if inputTokens.total > profile.inputTokenLimit {
            return error(
                400, "INVALID_ARGUMENT",
                "The input token count (\(inputTokens.total)) exceeds the maximum number of tokens allowed (\(profile.inputTokenLimit)).")
        }
        let digest = Self.digest(body)
        let occurrence = await state.occurrence(of: digest)
        let scripted = await state.nextScripted(configuration.faults.script)
        var random = SplitMix64(seed: configuration.seed ^ UInt64(truncatingIfNeeded: digest.hashValueStable) ^ UInt64(occurrence) &* 0x9E37_79B9_7F4A_7C15)
        let fault: Fault? = scripted ?? {
            guard configuration.faults.rate > 0, !configuration.faults.kinds.isEmpty else { return nil }
            guard random.nextDouble() < configuration.faults.rate else { return nil }
            return configuration.faults.kinds[Int(random.next() % UInt64(configuration.faults.kinds.count))]
        }()
        if !inBatch, let delay = latency(&random) { try? await Task.sleep(for: .milliseconds(delay)) }
        if fault == .timeout {
            try? await Task.sleep(for: .seconds(600))
            return error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")
        }
        if let fault, let response = faultResponse(fault, profile: profile, inputTokens: inputTokens) {
            return response
        }
        let response = success(request, profile: profile, inputTokens: inputTokens, textOnly: fault == .textOnly, digest: digest)
        if fault == .droppedConnection {
            var dropped = jsonSplicingImages(response)
            dropped.fault = .droppedConnection
            return dropped
        }
        if fault == .truncatedBody {
            var cut = jsonSplicingImages(response)
            cut.body = cut.body.prefix(cut.body.count / 2)
            cut.fault = .truncatedBody
            return cut
        }
        guard streaming else { return jsonSplicingImages(response) }
        // Two chunks: the text first, then the image whole with the finish reason and usage.
        var first = response
        first.candidates?[0].content?.parts = response.candidates?[0].content?.parts?.filter { $0.text != nil }
        first.candidates?[0].finishReason = nil
        first.usageMetadata = nil
        var second = response
        second.candidates?[0].content?.parts = response.candidates?[0].content?.parts?.filter { $0.text == nil }
        var stream = Data()
        for chunk in [first, second] {
            stream += Data("data: ".utf8) + ((try? WireCoding.encoder().encode(chunk)) ?? Data()) + Data("\n\n".utf8)
        }
        return EmulatorResponse(status: 200, contentType: "text/event-stream", body: stream, fault: fault)
    }

    private func latency(_ random: inout SplitMix64) -> Int? {
        switch configuration.latency {
        case .none: return nil
        case .fixed(let milliseconds): return milliseconds
        case .uniform(let low, let high): return low + Int(random.next() % UInt64(high - low + 1))
        }
    }

    private func success(
        _ request: GenerateContentRequest, profile: ModelProfile, inputTokens: (total: Int, text: Int, image: Int), textOnly: Bool,
        digest: String
    ) -> GenerateContentResponse {
        let ratio = request.generationConfig?.imageConfig?.aspectRatio ?? "1:1"
        let size = request.generationConfig?.imageConfig?.imageSize
        let text = Self.text(of: request)
        let alt = Self.altText(from: text)
        let answer = !profile.makesImages ? "ALT: \(alt)"
            : textOnly ? "I can describe the product, but I did not make an image this time." : "Here is the image.\nALT: \(alt)"
        var parts = [Part(text: answer)]
        var imageTokens = 0
        if !textOnly, profile.makesImages, let dimensions = ImageDimensions.size(for: profile, aspectRatio: ratio, imageSize: size) {
            let base64 = images.base64PNG(width: dimensions.width, height: dimensions.height, colors: Self.colors(in: text), grain: configuration.imageGrain)
            parts.append(Part(inlineData: .init(mimeType: "image/png", data: base64)))
            imageTokens = profile.outputImageTokens(size: size)
        }
        let textTokens = TokenEstimator.gemini.estimate(answer)
        let thoughts = profile.id.contains("pro") ? 240 : 0
        var grounding: GroundingMetadata?
        if let search = request.tools?.compactMap(\.googleSearch).first {
            grounding = Self.grounding(for: text, answer: answer, imageSearch: search.searchTypes?.imageSearch != nil)
        }
        var promptDetails = [ModalityTokenCount(modality: .text, tokenCount: inputTokens.text)]
        if inputTokens.image > 0 { promptDetails.append(ModalityTokenCount(modality: .image, tokenCount: inputTokens.image)) }
        let usage = UsageMetadata(
            promptTokenCount: inputTokens.total, candidatesTokenCount: imageTokens + textTokens,
            thoughtsTokenCount: thoughts > 0 ? thoughts : nil, totalTokenCount: inputTokens.total + imageTokens + textTokens + thoughts,
            promptTokensDetails: promptDetails,
            // Real image models list only the IMAGE entry here (spec §1.3).
            candidatesTokensDetails: imageTokens > 0 ? [ModalityTokenCount(modality: .image, tokenCount: imageTokens)] : nil)
        return GenerateContentResponse(
            candidates: [
                Candidate(content: ResponseContent(role: "model", parts: parts), finishReason: .stop, groundingMetadata: grounding, index: 0)
            ],
            usageMetadata: usage, modelVersion: profile.id, responseId: String(digest.prefix(22)))
    }

    private func faultResponse(_ fault: Fault, profile: ModelProfile, inputTokens: (total: Int, text: Int, image: Int)) -> EmulatorResponse? {
        let usage = UsageMetadata(
            promptTokenCount: inputTokens.total, totalTokenCount: inputTokens.total,
            promptTokensDetails: [ModalityTokenCount(modality: .text, tokenCount: inputTokens.text)])
        var response: EmulatorResponse
        switch fault {
        case .rateLimited:
            response = error(
                429, "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
                details: [
                    [
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            [
                                "quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
                                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                                "quotaDimensions": ["location": "global", "model": profile.id], "quotaValue": "10",
                            ]
                        ],
                    ],
                    [
                        "@type": "type.googleapis.com/google.rpc.Help",
                        "links": [["description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"]],
                    ],
                    ["@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"],
                ])
        case .internalError:
            response = error(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")
        case .unavailable:
            response = error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
        case .deadlineExceeded:
            response = error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")
        case .wrappedError:
            var wrapped = error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
            wrapped.body = Data("[".utf8) + wrapped.body + Data("]".utf8)
            response = wrapped
        case .imageSafety:
            response = json(
                200,
                GenerateContentResponse(
                    candidates: [
                        Candidate(
                            content: ResponseContent(role: "model", parts: nil), finishReason: .imageSafety,
                            finishMessage: "Unable to show the generated image. The image was filtered out because it violated Google's Generative AI Prohibited Use policy. Support code: 40000001.")
                    ], usageMetadata: usage, modelVersion: profile.id))
        case .noImage:
            response = json(
                200,
                GenerateContentResponse(
                    candidates: [Candidate(content: ResponseContent(role: "model", parts: nil), finishReason: .noImage)],
                    usageMetadata: usage, modelVersion: profile.id))
        case .promptBlocked:
            response = json(
                200,
                GenerateContentResponse(
                    promptFeedback: PromptFeedback(
                        blockReason: .safety,
                        safetyRatings: [SafetyRating(category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "MEDIUM")])))
        case .textOnly, .timeout, .truncatedBody, .droppedConnection:
            return nil
        }
        response.fault = fault
        return response
    }

    // MARK: - Parsing and validation

    private enum Parsed {
        case success(GenerateContentRequest)
        case failure(EmulatorResponse)
    }

    private func parseRequest(_ body: Data) -> Parsed {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return .failure(error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object at the top level."))
        }
        if let unknown = RequestSchema.firstUnknownField(in: object) {
            let message = "Invalid JSON payload received. Unknown name \"\(unknown.name)\"\(unknown.path.isEmpty ? "" : " at '\(unknown.path)'"): Cannot find field."
            var violation: [String: Any] = ["description": message]
            if !unknown.path.isEmpty { violation["field"] = unknown.path }
            return .failure(
                error(
                    400, "INVALID_ARGUMENT", message,
                    details: [["@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]]]))
        }
        do {
            let request = try WireCoding.decoder().decode(GenerateContentRequest.self, from: body)
            guard !request.contents.isEmpty else {
                return .failure(error(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n"))
            }
            return .success(request)
        } catch {
            return .failure(self.error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. \(error)"))
        }
    }

    private func validate(_ request: GenerateContentRequest, for profile: ModelProfile) -> EmulatorResponse? {
        let modalities = (request.generationConfig?.responseModalities ?? []).map { $0.uppercased() }
        if !profile.makesImages {
            guard !modalities.contains("IMAGE"), request.generationConfig?.imageConfig == nil else {
                return error(400, "INVALID_ARGUMENT", "Model \(profile.id) does not generate images; ask for TEXT and send no imageConfig.")
            }
            return nil
        }
        if !modalities.isEmpty, !modalities.contains("IMAGE") || modalities.contains(where: { $0 != "TEXT" && $0 != "IMAGE" }) {
            return error(
                400, "INVALID_ARGUMENT",
                "The requested combination of response modalities (\(modalities.joined(separator: ", "))) is not supported by the model \(profile.id).")
        }
        guard let imageConfig = request.generationConfig?.imageConfig else { return nil }
        if let ratio = imageConfig.aspectRatio, !profile.aspectRatios.contains(ratio) {
            return error(
                400, "INVALID_ARGUMENT",
                "* GenerateContentRequest.generation_config.image_config.aspect_ratio: unsupported aspect ratio \"\(ratio)\" for \(profile.id); supported: \(profile.aspectRatios.joined(separator: ", "))\n")
        }
        if let size = imageConfig.imageSize {
            if profile.imageSizes.isEmpty {
                return error(400, "INVALID_ARGUMENT", "* GenerateContentRequest.generation_config.image_config.image_size: \(profile.id) does not support image_size\n")
            }
            if !profile.imageSizes.contains(size) {
                return error(
                    400, "INVALID_ARGUMENT",
                    "* GenerateContentRequest.generation_config.image_config.image_size: unsupported image size \"\(size)\" for \(profile.id); supported: \(profile.imageSizes.joined(separator: ", ")) (upper-case K)\n")
            }
        }
        return nil
    }

    // MARK: - The OpenAI-compatible surface

    /// Errors on the OpenAI surface come as the Google envelope inside a one-element array (spec §7).
    static func wrappedInArray(_ response: EmulatorResponse) -> EmulatorResponse {
        var response = response
        response.body = Data("[".utf8) + response.body + Data("]".utf8)
        return response
    }

    /// The OpenAI surface's 401 when there is no `Authorization: Bearer <key>`, else nil.
    func bearerRefusal(_ authorization: String?) -> EmulatorResponse? {
        guard let authorization, authorization.hasPrefix("Bearer "), authorization.count > 7 else {
            return Self.wrappedInArray(error(401, "UNAUTHENTICATED", "Missing or invalid Authorization header; send Authorization: Bearer <key>."))
        }
        return nil
    }

    /// `POST …/images/generations` with Bearer auth, as gateways serve it: a prompt in, one
    /// base64 PNG out, errors in the Google envelope wrapped in an array (spec §7).
    private func openAIImages(authorization: String?, body: Data) -> EmulatorResponse {
        let wrapped = Self.wrappedInArray
        if let refused = bearerRefusal(authorization) { return refused }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let model = object["model"] as? String,
            let prompt = object["prompt"] as? String
        else {
            return wrapped(error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. images/generations needs \"model\" and \"prompt\"."))
        }
        guard configuration.models.profile(model) != nil else {
            return wrapped(error(404, "NOT_FOUND", "models/\(model) is not found."))
        }
        let base64 = images.base64PNG(width: 1024, height: 1024, colors: Self.colors(in: prompt), grain: configuration.imageGrain)
        return json(200, ["created": 1_767_225_600, "data": [["b64_json": base64]]])
    }

    // MARK: - countTokens and models

    private func countTokens(_ profile: ModelProfile, body: Data) -> EmulatorResponse {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object at the top level.")
        }
        let request: GenerateContentRequest
        do {
            if let inner = object["generateContentRequest"] ?? object["generate_content_request"] {
                request = try WireCoding.decoder().decode(GenerateContentRequest.self, from: JSONSerialization.data(withJSONObject: inner))
            } else {
                struct Contents: Decodable { var contents: [Content]? }
                request = GenerateContentRequest(contents: try WireCoding.decoder().decode(Contents.self, from: body).contents ?? [])
            }
        } catch {
            return self.error(400, "INVALID_ARGUMENT", "Invalid JSON payload received. \(error)")
        }
        let tokens = countInput(request, profile: profile)
        var details: [[String: Any]] = [["modality": "TEXT", "tokenCount": tokens.text]]
        if tokens.image > 0 { details.append(["modality": "IMAGE", "tokenCount": tokens.image]) }
        return json(200, ["totalTokens": tokens.total, "promptTokensDetails": details])
    }

    private func countInput(_ request: GenerateContentRequest, profile: ModelProfile) -> (total: Int, text: Int, image: Int) {
        let estimate = TokenEstimator.gemini.estimate(Self.text(of: request))
        let text = configuration.textTokenFactor == 1 ? estimate : Int((Double(estimate) * configuration.textTokenFactor).rounded(.up))
        let images = request.contents.flatMap(\.parts).filter { $0.inlineData != nil || $0.fileData != nil }.count
        let image = images * profile.inputImageTokens
        return (text + image, text, image)
    }

    private func modelResource(_ profile: ModelProfile) -> [String: Any] {
        [
            "name": "models/\(profile.id)", "version": "001", "displayName": profile.displayName,
            "description": "\(profile.displayName), served by the Onbrand emulator.",
            "inputTokenLimit": profile.inputTokenLimit, "outputTokenLimit": profile.outputTokenLimit,
            "supportedGenerationMethods": ["generateContent", "countTokens", "batchGenerateContent"],
            "temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 1, "thinking": true,
        ]
    }

    // MARK: - Helpers

    func error(_ code: Int, _ status: String, _ message: String, details: [[String: Any]] = []) -> EmulatorResponse {
        var error: [String: Any] = ["code": code, "message": message, "status": status]
        if !details.isEmpty { error["details"] = details }
        return json(code, ["error": error])
    }

    func json(_ status: Int, _ object: [String: Any]) -> EmulatorResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return EmulatorResponse(status: status, contentType: "application/json; charset=UTF-8", body: data, fault: nil)
    }

    /// A 200 answer whose image data is spliced into the JSON as bytes instead of passing through
    /// the encoder: a 1K image is 2 MB of base64, and the encoder's escaping scan of it cost more
    /// than the rest of the answer.
    func jsonSplicingImages(_ response: GenerateContentResponse) -> EmulatorResponse {
        var skeleton = response
        var payloads: [String] = []
        // A marker no request text can contain: fresh for every answer.
        let marker = "ONBRANDSPLICE" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        for candidate in (skeleton.candidates ?? []).indices {
            for part in (skeleton.candidates?[candidate].content?.parts ?? []).indices {
                guard let data = skeleton.candidates?[candidate].content?.parts?[part].inlineData?.data, data.utf8.count > 4096 else { continue }
                skeleton.candidates?[candidate].content?.parts?[part].inlineData?.data = "\(marker)\(payloads.count)X"
                payloads.append(data)
            }
        }
        var answer = json(200, skeleton)
        for (index, payload) in payloads.enumerated() {
            if let range = answer.body.range(of: Data("\"\(marker)\(index)X\"".utf8)) {
                answer.body.replaceSubrange(range, with: Data("\"\(payload)\"".utf8))
            }
        }
        return answer
    }

    func json(_ status: Int, _ value: some Encodable) -> EmulatorResponse {
        EmulatorResponse(
            status: status, contentType: "application/json; charset=UTF-8", body: (try? WireCoding.encoder().encode(value)) ?? Data(),
            fault: nil)
    }

    static func text(of request: GenerateContentRequest) -> String {
        let system = request.systemInstruction?.parts.compactMap(\.text) ?? []
        return (system + request.contents.flatMap(\.parts).compactMap(\.text)).joined(separator: "\n")
    }

    static func requestText(_ body: Data) -> String {
        guard let request = try? WireCoding.decoder().decode(GenerateContentRequest.self, from: body) else { return "" }
        return text(of: request)
    }

    /// The palette of the request: the first six distinct `#RRGGBB` colours it names.
    static func colors(in text: String) -> [PNGEncoder.Color] {
        var colors: [PNGEncoder.Color] = []
        var index = text.startIndex
        while let hash = text[index...].firstIndex(of: "#") {
            let end = text.index(hash, offsetBy: 7, limitedBy: text.endIndex) ?? text.endIndex
            if let color = PNGEncoder.Color(hex: String(text[hash..<end])), !colors.contains(color) { colors.append(color) }
            if colors.count == 6 { break }
            index = text.index(after: hash)
        }
        return colors
    }

    /// Alt text naming the product, from the request's "Product: …" line when there is one.
    /// Alt text naming the product, in the language the request asks for ("in the language of
    /// the de-DE locale"), so proof runs in every locale pass the alt-text checks.
    static func altText(from text: String) -> String {
        let language = requestedLanguage(in: text)
        for line in text.split(separator: "\n") where line.hasPrefix("Product: ") {
            var name = line.dropFirst(9)
            if let cut = name.range(of: " (ID") { name = name[..<cut.lowerBound] }
            while name.hasSuffix(".") { name = name.dropLast() }
            // A scene when the prompt asks for the product in use, a plain background otherwise.
            // (A repair call names the scene only through the earlier alt text it quotes.)
            let inUse = [" in use", "im Einsatz", "en plein air", "al aire libre", "屋外", "户外"].contains { text.contains($0) }
            let suffix: String = switch (language, inUse) {
            case ("de", false): " vor schlichtem Hintergrund"
            case ("de", true): " im Einsatz im Freien"
            case ("fr", false): " sur un fond uni"
            case ("fr", true): " utilisé en plein air"
            case ("es", false): " sobre un fondo liso"
            case ("es", true): " en uso al aire libre"
            case ("ja", false): "。無地の明るい背景の中央に置かれています"
            case ("ja", true): "を屋外の自然の中で使っている様子"
            case ("zh", false): "，纯色背景上的产品照片"
            case ("zh", true): "在户外使用的照片"
            case (_, false): " on a plain background"
            case (_, true): " in use outdoors"
            }
            // Keep within the length the request asks for, shortening the name at a word.
            let limit = min(maximumLength(in: text) ?? 120, 120)
            var shortened = String(name)
            while shortened.count + suffix.count > limit, let space = shortened.lastIndex(where: { $0 == " " || $0 == "," }) {
                shortened = String(shortened[..<space])
            }
            return String((shortened + suffix).prefix(limit))
        }
        return "A product photograph in the brand's colours"
    }

    /// N from "at most N characters" in the request, if it says so.
    static func maximumLength(in text: String) -> Int? {
        guard let marker = text.range(of: "at most ") else { return nil }
        let digits = text[marker.upperBound...].prefix { $0.isNumber }
        return Int(digits)
    }

    /// The language code of the locale the request names after "language of the", if any.
    static func requestedLanguage(in text: String) -> String? {
        guard let marker = text.range(of: "language of the ") else { return nil }
        let code = text[marker.upperBound...].prefix(2)
        return code.count == 2 && code.allSatisfy(\.isLetter) ? code.lowercased() : nil
    }

    static func grounding(for text: String, answer: String, imageSearch: Bool) -> GroundingMetadata {
        let query = (text.split(separator: "\n").first { $0.hasPrefix("Product: ") }.map { String($0.dropFirst(9).prefix { $0 != "(" && $0 != "." }) } ?? "product")
            .trimmingCharacters(in: .whitespaces) + " trends"
        let sources = ["outsidemagazine.com", "gearpatrol.com", "rei.com"]
        let chunks = sources.enumerated().map { index, domain in
            GroundingMetadata.GroundingChunk(
                web: .init(uri: "https://vertexaisearch.cloud.google.com/grounding-api-redirect/emulator-\(index)", title: domain))
        }
        var metadata = GroundingMetadata(
            webSearchQueries: [query],
            searchEntryPoint: .init(renderedContent: "<style>.container{display:flex}</style><div class=\"container\">\(query)</div>"),
            groundingChunks: chunks)
        let firstLine = answer.split(separator: "\n").first.map(String.init) ?? answer
        metadata.groundingSupports = [
            .init(segment: .init(partIndex: nil, startIndex: 0, endIndex: firstLine.utf8.count, text: firstLine), groundingChunkIndices: [0, 1], confidenceScores: [0.91, 0.84])
        ]
        if imageSearch {
            metadata.imageSearchQueries = [query + " photos"]
            metadata.groundingChunks?.append(
                .init(image: .init(sourceUri: "https://\(sources[0])/gallery", imageUri: "https://\(sources[0])/gallery/1.jpg", title: "Gallery", domain: sources[0])))
        }
        return metadata
    }

    /// A stable digest of a request body: FNV-1a 64 as hex, with the length.
    static func digest(_ body: Data) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in body {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(body.count, radix: 36) + "-" + String(hash, radix: 16)
    }
}

/// Counters the engine keeps across requests.
actor EngineState {
    private var seen: [String: Int] = [:]
    private var scriptIndex = 0

    /// How many times this body was seen before (0 the first time): retries of one request draw
    /// fresh faults, whatever order concurrent requests arrive in.
    func occurrence(of digest: String) -> Int {
        defer { seen[digest, default: 0] += 1 }
        return seen[digest, default: 0]
    }

    func nextScripted(_ script: [Fault?]) -> Fault? {
        guard scriptIndex < script.count else { return nil }
        defer { scriptIndex += 1 }
        return script[scriptIndex]
    }
}

/// Generated images by size, colours and grain: the same request shape gets the same bytes, so a
/// busy emulator draws each image once instead of once per call. Bounded at 512 MB of base64;
/// emptied when full.
final class ImageCache: @unchecked Sendable {
    private let lock = NSLock()
    private var images: [String: String] = [:]
    private var bytes = 0
    private static let capacity = 512 << 20

    func base64PNG(width: Int, height: Int, colors: [PNGEncoder.Color], grain: Int) -> String {
        let key = "\(width)x\(height)|\(grain)|" + colors.map { "\($0.red),\($0.green),\($0.blue)" }.joined(separator: ";")
        lock.lock()
        if let cached = images[key] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let encoded = PNGEncoder.bands(width: width, height: height, colors: colors, grain: grain).base64EncodedString()
        lock.lock()
        defer { lock.unlock() }
        if bytes + encoded.utf8.count > Self.capacity {
            images.removeAll()
            bytes = 0
        }
        if images[key] == nil {
            images[key] = encoded
            bytes += encoded.utf8.count
        }
        return encoded
    }
}

/// A small, fast, seedable generator (SplitMix64): repeatable faults and latencies.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

extension String {
    /// A hash that is the same in every process (Swift's `hashValue` is seeded per process).
    var hashValueStable: Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Int(truncatingIfNeeded: hash)
    }
}
