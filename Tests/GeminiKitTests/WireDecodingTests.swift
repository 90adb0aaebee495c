import Foundation
@testable import GeminiKit
import OnbrandTestSupport
import Testing

/// Every real body in ../shared/spec/real-responses decodes, and the facts a run depends on
/// come out right.
@Suite struct WireDecodingTests {
    static func realResponse(_ name: String) throws -> Data? {
        guard let shared = TestFiles.shared else {
            print("skipping: ../shared is absent, so the real responses are not available")
            return nil
        }
        return try Data(contentsOf: shared.appendingPathComponent("spec/real-responses/\(name)"))
    }

    @Test func groundedResponse() throws {
        guard let data = try Self.realResponse("generate-content-grounded-google-search.json") else { return }
        let response = try WireCoding.decoder().decode(GenerateContentResponse.self, from: data)
        let candidate = try #require(response.candidates?.first)
        #expect(candidate.finishReason == .stop)
        #expect(candidate.content?.parts?.first?.text?.hasPrefix("Here are the current prices") == true)
        let grounding = try #require(candidate.groundingMetadata)
        #expect(grounding.webSearchQueries?.isEmpty == false)
        #expect(grounding.searchEntryPoint?.renderedContent?.hasPrefix("<style>") == true)
        #expect(grounding.groundingChunks?.first?.web?.title == "tradingview.com")
        #expect(grounding.groundingSupports?.first?.confidenceScores?.isEmpty == false)
        #expect((response.usageMetadata?.promptTokenCount ?? 0) > 0)
    }

    @Test func blockedPrompt() throws {
        guard let data = try Self.realResponse("generate-content-prompt-blocked.json") else { return }
        let response = try WireCoding.decoder().decode(GenerateContentResponse.self, from: data)
        #expect(response.candidates == nil)
        #expect(response.promptFeedback?.blockReason == .safety)
        #expect(response.promptFeedback?.safetyRatings?.contains { $0.category == "HARM_CATEGORY_HARASSMENT" && $0.probability == "MEDIUM" } == true)
        #expect(response.usageMetadata == nil && response.modelVersion == nil)
    }

    @Test func blockedImageStreamChunk() throws {
        guard let data = try Self.realResponse("stream-chunk-image-prohibited-content-vertex.json") else { return }
        let response = try WireCoding.decoder().decode(GenerateContentResponse.self, from: data)
        let candidate = try #require(response.candidates?.first)
        #expect(candidate.finishReason == .imageProhibitedContent)
        #expect(candidate.content?.parts == nil, "a blocked candidate may have no parts")
        #expect(candidate.finishMessage?.contains("Support code") == true)
        #expect(response.usageMetadata?.promptTokensDetails?.contains { $0.modality == .image && $0.tokenCount == 1069 } == true)
        #expect(response.usageMetadata?.outputTextTokens == 240, "thoughts are billed at the text rate")
        #expect(response.modelVersion == "gemini-3-pro-image-preview")
    }

    @Test func batchResponsesFileLine() throws {
        guard let data = try Self.realResponse("batch-responses-file-line.json") else { return }
        struct Line: Decodable {
            var response: GenerateContentResponse
            var key: String
        }
        let line = try WireCoding.decoder().decode(Line.self, from: data)
        #expect(line.key == "request_1")
        #expect(line.response.usageMetadata?.thoughtsTokenCount == 829)
        #expect(line.response.responseId == "6VFkaIDwEPXVjMcP4-XW6Qo")
    }

    @Test func quotaErrorWithRetryInfo() throws {
        guard let data = try Self.realResponse("error-429-resource-exhausted.json") else { return }
        let envelope = try WireCoding.decoder().decode(APIErrorEnvelope.self, from: data)
        #expect(envelope.error.code == 429 && envelope.error.status == "RESOURCE_EXHAUSTED")
        #expect(envelope.retryDelay == 15)
        let quota = try #require(envelope.error.details?.first { $0.type.hasSuffix("QuotaFailure") }?.violations?.first)
        #expect(quota.quotaId == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
        #expect(quota.quotaDimensions?["model"] == "gemini-2.5-flash")
    }

    @Test func everyRealBodyDecodesAsSomething() throws {
        guard let shared = TestFiles.shared else {
            print("skipping: ../shared is absent")
            return
        }
        let directory = shared.appendingPathComponent("spec/real-responses")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        #expect(files.count >= 6)
        for file in files {
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            let decoder = WireCoding.decoder()
            let decodes =
                (try? decoder.decode(APIErrorEnvelope.self, from: data)) != nil
                || (try? decoder.decode(GenerateContentResponse.self, from: data)) != nil
            #expect(decodes, "\(file)")
        }
    }

    @Test func snakeCaseInputIsAcceptedAndUnknownEnumsKept() throws {
        let body = #"""
            {"candidates": [{"content": {"role": "model", "parts": [
                {"inline_data": {"mime_type": "image/png", "data": "iVBORw0KGgo="}},
                {"text": "ALT: A green jacket", "thought_signature": "c2ln"}]},
              "finish_reason": "SOMETHING_NEW_2027"}],
             "usage_metadata": {"prompt_token_count": 10, "candidates_token_count": 1300,
               "candidates_tokens_details": [{"modality": "IMAGE", "token_count": 1290}]},
             "turnToken": "ignored"}
            """#
        let response = try WireCoding.decoder().decode(GenerateContentResponse.self, from: Data(body.utf8))
        let candidate = try #require(response.candidates?.first)
        #expect(candidate.finishReason == .unknown("SOMETHING_NEW_2027"))
        #expect(candidate.finishReason?.rawValue == "SOMETHING_NEW_2027")
        #expect(candidate.content?.parts?.first?.inlineData?.mimeType == "image/png")
        #expect(candidate.content?.parts?.last?.thoughtSignature == "c2ln")
        #expect(response.usageMetadata?.outputImageTokens == 1290 && response.usageMetadata?.outputTextTokens == 10)
    }

    @Test func requestsEncodeInLowerCamelCaseWithoutNulls() throws {
        let request = GenerateContentRequest(
            contents: [Content(parts: [Part(text: "Photograph a jacket"), Part(inlineData: .init(mimeType: "image/png", data: "AAAA"))])],
            tools: [Tool(googleSearch: .init(searchTypes: .init(webSearch: true, imageSearch: true)))],
            generationConfig: GenerationConfig(
                responseModalities: ["TEXT", "IMAGE"], imageConfig: .init(aspectRatio: "4:5", imageSize: "2K")))
        let json = String(decoding: try WireCoding.encoder().encode(request), as: UTF8.self)
        #expect(
            json
                == #"{"contents":[{"parts":[{"text":"Photograph a jacket"},{"inlineData":{"data":"AAAA","mimeType":"image/png"}}],"role":"user"}],"generationConfig":{"imageConfig":{"aspectRatio":"4:5","imageSize":"2K"},"responseModalities":["TEXT","IMAGE"]},"tools":[{"googleSearch":{"searchTypes":{"imageSearch":{},"webSearch":{}}}}]}"#)
        // And it reads back.
        #expect(try WireCoding.decoder().decode(GenerateContentRequest.self, from: Data(json.utf8)) == request)
    }
}

@Suite struct BatchAndFileDecodingTests {
    @Test func finishedFileBatchOperation() throws {
        guard let data = try WireDecodingTests.realResponse("batch-operation-succeeded-responses-file.json") else { return }
        let operation = try WireCoding.decoder().decode(BatchOperation.self, from: data)
        #expect(operation.isDone && operation.metadata?.state == .succeeded && operation.metadata?.state?.isTerminal == true)
        #expect(operation.metadata?.batchStats?.requests == 2 && operation.metadata?.batchStats?.succeeded == 2)
        #expect(operation.metadata?.batchStats?.failed == 0, "zero counts are omitted on the wire")
        #expect(operation.response?.responsesFile == "files/batch-leg9wy9p5df66syjxke2eq4xfjqcwp47ejv3")
        #expect(operation.metadata?.inputConfig?.fileName == "files/frh6ua11nk3o")
    }

    @Test func responsesFileLineAndStateSpellings() throws {
        guard let data = try WireDecodingTests.realResponse("batch-responses-file-line.json") else { return }
        let line = try WireCoding.decoder().decode(BatchResponseLine.self, from: data)
        #expect(line.key == "request_1" && line.response?.candidates?.first?.finishReason == .stop)
        #expect(BatchState(rawValue: "JOB_STATE_SUCCEEDED") == .succeeded, "the SDK's spelling is accepted")
        #expect(BatchState(rawValue: "BATCH_STATE_NEW_2027") == .unknown("BATCH_STATE_NEW_2027"))
    }

    @Test func inlineBatchRequestEncodesNestedTwice() throws {
        let batch = GenerateContentBatch(
            displayName: "job1",
            inputConfig: .init(requests: [.init(request: GenerateContentRequest(contents: [Content(parts: [Part(text: "a red apple")])]), key: "sku-1")]))
        let json = String(decoding: try WireCoding.encoder().encode(["batch": batch]), as: UTF8.self)
        #expect(json.contains(#""inputConfig":{"requests":{"requests":[{"metadata":{"key":"sku-1"},"request":"#))
        let file = try WireCoding.decoder().decode(
            FileResource.self,
            from: Data(#"{"name": "files/t5snrshrqff1", "mimeType": "jsonl", "sizeBytes": "202", "state": "ACTIVE", "source": "UPLOADED"}"#.utf8))
        #expect(file.size == 202 && file.state == .active)
    }
}

/// The fast path for large image payloads decodes exactly what the plain decoder does.
@Suite struct ImagePayloadSplitterTests {
    static func body(payload: String, text: String = "Here it is.\\nALT: a \\\"red\\\" shoe") -> Data {
        Data(
            """
            {"candidates": [{"content": {"role": "model", "parts": [{"text": "\(text)"},
              {"inlineData": {"mimeType": "image/png", "data": "\(payload)"}}, {"inlineData" : {"data" :"\(payload.prefix(70_000))", "mimeType": "image/jpeg"}}]},
              "finishReason": "STOP", "index": 0}], "modelVersion": "m", "responseId": "r"}
            """.utf8)
    }

    @Test func matchesThePlainDecoder() throws {
        let payload = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).base64EncodedString()
        let body = Self.body(payload: payload)
        let fast = try GenerateContentResponse.decodeSplittingImages(body)
        let plain = try WireCoding.decoder().decode(GenerateContentResponse.self, from: body)
        #expect(fast == plain)
        #expect(fast.candidates?[0].content?.parts?[1].inlineData?.data == payload)
        let ranges = try #require(body.withUnsafeBytes { ImagePayloadSplitter.dataStringRanges(in: $0, minimumLength: 65_536) })
        #expect(ranges.count == 2)
    }

    @Test func escapedOrSmallPayloadsTakeThePlainPath() throws {
        let escaped = String(repeating: "ab\\/cd", count: 20_000)
        let body = Self.body(payload: escaped)
        #expect(try GenerateContentResponse.decodeSplittingImages(body) == WireCoding.decoder().decode(GenerateContentResponse.self, from: body))
        let small = Self.body(payload: "aGVsbG8=")
        #expect(try GenerateContentResponse.decodeSplittingImages(small, minimumPayload: 4) == WireCoding.decoder().decode(GenerateContentResponse.self, from: small))
        #expect(throws: (any Error).self) { try GenerateContentResponse.decodeSplittingImages(Data(("{\"candidates\": [\"" + String(repeating: "x", count: 70_000)).utf8)) }
    }
}
