/// The field names the API knows, per object, to reject unknown ones as the server does (spec §0:
/// 400 `Unknown name "x" at 'path': Cannot find field.`). Names are compared in snake_case, the
/// form the server reports paths in; camelCase input is converted first.
enum RequestSchema {
    indirect enum Node: Sendable {
        case object([String: Node])
        case array(Node)
        /// Anything goes below (values, or objects Onbrand does not inspect).
        case open
    }

    static let part: Node = .object([
        "text": .open, "inline_data": .object(["mime_type": .open, "data": .open, "display_name": .open]),
        "file_data": .object(["mime_type": .open, "file_uri": .open, "display_name": .open]), "thought": .open,
        "thought_signature": .open, "media_resolution": .open, "video_metadata": .open, "function_call": .open,
        "function_response": .open, "executable_code": .open, "code_execution_result": .open, "part_metadata": .open,
    ])
    static let content: Node = .object(["role": .open, "parts": .array(part)])
    static let generateContentRequest: Node = .object([
        "model": .open, "contents": .array(content), "system_instruction": content,
        "tools": .array(
            .object([
                "google_search": .object([
                    "search_types": .object(["web_search": .open, "image_search": .open]), "time_range_filter": .open,
                ]),
                "google_search_retrieval": .open, "url_context": .open, "code_execution": .open, "function_declarations": .open,
                "google_maps": .open, "file_search": .open, "computer_use": .open,
            ])),
        "tool_config": .open, "safety_settings": .array(.object(["category": .open, "threshold": .open])),
        "generation_config": .object([
            "response_modalities": .open, "image_config": .object(["aspect_ratio": .open, "image_size": .open]),
            "candidate_count": .open, "temperature": .open, "top_p": .open, "top_k": .open, "seed": .open,
            "max_output_tokens": .open, "stop_sequences": .open, "presence_penalty": .open, "frequency_penalty": .open,
            "response_logprobs": .open, "logprobs": .open, "response_mime_type": .open, "response_schema": .open,
            "response_json_schema": .open, "thinking_config": .object([
                "include_thoughts": .open, "thinking_budget": .open, "thinking_level": .open,
            ]),
            "media_resolution": .open, "speech_config": .open, "enable_enhanced_civic_answers": .open,
        ]),
        "cached_content": .open, "service_tier": .open, "store": .open,
    ])

    /// The first field the schema does not know, with the snake_case path of its parent.
    static func firstUnknownField(in object: [String: Any]) -> (name: String, path: String)? {
        check(object, against: generateContentRequest, path: "")
    }

    private static func check(_ value: Any, against node: Node, path: String) -> (name: String, path: String)? {
        switch node {
        case .open:
            return nil
        case .array(let element):
            guard let array = value as? [Any] else { return nil }
            for (index, item) in array.enumerated() {
                if let found = check(item, against: element, path: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let fields):
            guard let object = value as? [String: Any] else { return nil }
            for key in object.keys.sorted() {
                let name = snakeCased(key)
                guard let child = fields[name] else { return (key, path) }
                if let found = check(object[key]!, against: child, path: path.isEmpty ? name : "\(path).\(name)") { return found }
            }
            return nil
        }
    }

    /// `inlineData` → `inline_data`.
    static func snakeCased(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
