import Foundation

/// A Mustache renderer over Onbrand's own context values, for the hot loop of planning.
///
/// swift-mustache walks `Any` and casts every value it looks up, which was a third of planning a
/// large catalog. This renderer handles the subset Onbrand's templates use (variables, sections,
/// inverted sections, comments, dotted names and `.`, standalone-line removal) on
/// ``RenderContext/Value`` directly. It is never trusted blindly: for each text and each product
/// shape, the first render is compared with swift-mustache's (after ``TemplateRenderer``'s line
/// normalisation), and a text that ever differs goes back to swift-mustache for good. Anything
/// outside the subset (partials, delimiters, transforms, blocks) is swift-mustache's from the start.
struct FastTemplate: Sendable {
    indirect enum Node: Sendable {
        case text(String)
        /// `id` numbers the tags of a text, for the trace of a render.
        case variable([String], id: Int)
        case section([String], [Node], inverted: Bool, id: Int)
    }

    let nodes: [Node]

    init(nodes: [Node]) { self.nodes = nodes }

    init?(source: String, tags: [MustacheTag]) {
        let bytes = Array(source.utf8)
        func isBlank(_ range: Range<Int>) -> Bool { range.allSatisfy { bytes[$0] == 0x20 || bytes[$0] == 0x09 } }
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        var stack: [(path: [String], inverted: Bool, nodes: [Node])] = [([], false, [])]
        var cursor = 0
        var nextID = 0
        for tag in tags {
            guard tag.kind != .partial, tag.kind != .delimiters, tag.kind != .block, tag.kind != .pragma, !tag.name.contains("(") else { return nil }
            var textEnd = tag.range.lowerBound
            var next = tag.range.upperBound
            if [.section, .inverted, .close, .comment].contains(tag.kind) {
                // Standalone: alone on its line but for blanks; the whole line goes. Never on a text's first
                // line: Onbrand renders `{{% CONTENT_TYPE: TEXT}}` + the text, so a tag there follows the pragma.
                let lineStart = bytes[..<tag.range.lowerBound].lastIndex(of: 0x0A).map { $0 + 1 }.flatMap { $0 >= cursor ? $0 : nil } ?? -1
                var lineEnd = tag.range.upperBound
                while lineEnd < bytes.count, bytes[lineEnd] == 0x20 || bytes[lineEnd] == 0x09 { lineEnd += 1 }
                let endsLine = lineEnd == bytes.count || bytes[lineEnd] == 0x0A || bytes[lineEnd] == 0x0D
                if lineStart >= 0, isBlank(lineStart..<tag.range.lowerBound), endsLine {
                    textEnd = lineStart
                    if lineEnd < bytes.count, bytes[lineEnd] == 0x0D { lineEnd += 1 }
                    if lineEnd < bytes.count, bytes[lineEnd] == 0x0A { lineEnd += 1 }
                    next = lineEnd
                }
            }
            if cursor < textEnd { stack[stack.count - 1].nodes.append(.text(text(cursor..<textEnd))) }
            cursor = next
            let path = tag.name == "." ? ["."] : tag.name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            nextID += 1
            switch tag.kind {
            case .variable: stack[stack.count - 1].nodes.append(.variable(path, id: nextID))
            case .section, .inverted: stack.append((path, tag.kind == .inverted, []))
            case .close:
                guard stack.count > 1, stack[stack.count - 1].path == path else { return nil }
                let section = stack.removeLast()
                stack[stack.count - 1].nodes.append(.section(section.path, section.nodes, inverted: section.inverted, id: nextID))
            case .comment: break
            case .partial, .delimiters, .pragma, .block: return nil
            }
        }
        guard stack.count == 1 else { return nil }
        if cursor < bytes.count { stack[0].nodes.append(.text(text(cursor..<bytes.count))) }
        nodes = stack[0].nodes
    }

    /// The text for this context; `nil` when a variable names a list or a map (swift-mustache's business).
    func render(_ root: [String: RenderContext.Value]) -> String? {
        var trace = RenderTrace()
        return render(root, strict: false, trace: &trace)
    }

    /// The text for this context, recording in `trace` every decision the render made: which tag,
    /// at which depth of the context stack its name was found, and what kind of value it found
    /// (empty or not, true or false, how many items). Two contexts with the same trace go through
    /// the same tags the same way, so one comparison with swift-mustache vouches for all of them.
    ///
    /// - Parameter strict: A variable that does not resolve fails the render (`nil`), as
    ///   ``TemplateRenderer``'s check would report it.
    func render(_ root: [String: RenderContext.Value], strict: Bool, trace: inout RenderTrace) -> String? {
        var output = ByteBuffer(capacity: 1024)
        var stack: [RenderContext.Value] = []
        return render(RenderContext.Members(root), strict: strict, trace: &trace, into: &output, stack: &stack)
            ? String(decoding: output.written, as: UTF8.self) : nil
    }

    /// Renders as ``render(_:strict:trace:)`` does, appending the text's UTF-8 to `output`
    /// (whatever it holds is left before it); `false` where that gives `nil`.
    ///
    /// - Parameter stack: Scratch space for the context stack, left empty; a caller rendering
    ///   many texts passes the same one, so that it is allocated once.
    func render(
        _ root: RenderContext.Members, strict: Bool, trace: inout RenderTrace, into output: inout ByteBuffer,
        stack: inout [RenderContext.Value]
    ) -> Bool {
        stack.removeAll(keepingCapacity: true)
        stack.append(.map(root))
        defer { stack.removeAll(keepingCapacity: true) }
        var walk = Walk(strict: strict, trace: trace)
        defer { trace = walk.trace }
        return walk.render(nodes, &stack, &output)
    }

    /// Empty, one line of text, text with a line break, or text that starts or ends blank: the
    /// kinds that line normalisation may treat differently.
    static func kind(of text: String) -> Int {
        text.utf8.withContiguousStorageIfAvailable(kind) ?? Self.kind(of: String(decoding: Array(text.utf8), as: UTF8.self))
    }

    /// ``kind(of:)`` of the bytes of a text.
    static func kind(of bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let first = bytes.first, let last = bytes.last else { return 1 }
        // Most values are a few words: eight bytes a step beat two calls to `memchr`.
        if bytes.count < 64 {
            let raw = UnsafeRawBufferPointer(bytes)
            var offset = 0
            while offset + 8 <= raw.count {
                let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                if hasByte(word, 0x0A) || hasByte(word, 0x0D) { return 7 }
                offset += 8
            }
            for byte in bytes[offset...] where byte == 0x0A || byte == 0x0D { return 7 }
        } else if memchr(bytes.baseAddress!, 0x0A, bytes.count) != nil || memchr(bytes.baseAddress!, 0x0D, bytes.count) != nil {
            return 7
        }
        return first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 ? 8 : 2
    }

    /// Whether any of a word's eight bytes is `byte`.
    @inline(__always)
    private static func hasByte(_ word: UInt64, _ byte: UInt8) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let value = word ^ (ones &* UInt64(byte))
        return (value &- ones) & ~value & 0x8080_8080_8080_8080 != 0
    }

    private struct Walk {
        let strict: Bool
        var trace: RenderTrace

        /// Adds a tag's decision to the trace; `kind`, when given, is that of the string found
        /// (a variable's is read from the bytes it wrote, already at hand).
        mutating func record(_ id: Int, _ found: (value: RenderContext.Value?, depth: Int), kind: Int? = nil) {
            trace.combine(id)
            trace.combine(found.depth)
            switch found.value {
            case nil: trace.combine(0)
            case .string(let text): trace.combine(kind ?? FastTemplate.kind(of: text))
            case .bool(let flag): trace.combine(flag ? 3 : 4)
            case .list(let items):
                trace.combine(5)
                trace.combine(items.count)
            case .map: trace.combine(6)
            }
        }

        mutating func render(_ nodes: [Node], _ stack: inout [RenderContext.Value], _ output: inout ByteBuffer) -> Bool {
            // Through the buffer: each node is lent to the loop, not copied.
            nodes.withUnsafeBufferPointer { nodes in render(nodes, &stack, &output) }
        }

        mutating func render(_ nodes: UnsafeBufferPointer<Node>, _ stack: inout [RenderContext.Value], _ output: inout ByteBuffer) -> Bool {
            for index in nodes.indices {
                switch nodes[index] {
                case .text(let text):
                    output.append(text)
                case .variable(let path, let id):
                    let found = FastTemplate.lookup(path, stack)
                    switch found.value {
                    case .string(let text):
                        let start = output.count
                        output.append(text)
                        let written = output.written
                        record(id, found, kind: FastTemplate.kind(of: UnsafeBufferPointer(rebasing: written[start...])))
                    case .bool(let flag):
                        record(id, found)
                        output.append(flag ? "true" : "false")
                    case .none:
                        record(id, found)
                        if strict { return false }
                    case .list, .map:
                        record(id, found)
                        return false
                    }
                case .section(let path, let children, let inverted, let id):
                    let found = FastTemplate.lookup(path, stack)
                    record(id, found)
                    let value = found.value
                    if inverted {
                        switch value {
                        case .none, .bool(false): if !render(children, &stack, &output) { return false }
                        case .list(let items) where items.isEmpty: if !render(children, &stack, &output) { return false }
                        default: break
                        }
                        continue
                    }
                    switch value {
                    case .none, .bool(false): break
                    case .bool(true): if !render(children, &stack, &output) { return false }
                    case .list(let items):
                        for item in items {
                            stack.append(item)
                            defer { stack.removeLast() }
                            if !render(children, &stack, &output) { return false }
                        }
                    case .some(let item):
                        stack.append(item)
                        defer { stack.removeLast() }
                        if !render(children, &stack, &output) { return false }
                    }
                }
            }
            return true
        }
    }

    /// Mustache's lookup: `.` is the top of the stack; the first name is looked for from the top
    /// down, the rest only inside what it found. Also says at which depth the first name was found.
    private static func lookup(_ path: [String], _ stack: [RenderContext.Value]) -> (value: RenderContext.Value?, depth: Int) {
        // Through the buffers, so that each context looked into is lent, not copied.
        path.withUnsafeBufferPointer { path in
            stack.withUnsafeBufferPointer { stack in
                if path.count == 1, path[0].utf8.count == 1, path[0] == "." { return (stack.last, stack.count - 1) }
                var depth = stack.count - 1
                while depth >= 0 {
                    if case .map(let members) = stack[depth], let position = members.index(of: path[0]) {
                        guard path.count > 1 else { return (members.values[position], depth) }
                        var found = members.values[position]
                        for name in path[1...] {
                            guard case .map(let inner) = found, let next = inner.index(of: name) else { return (nil, depth) }
                            found = inner.values[next]
                        }
                        return (found, depth)
                    }
                    depth -= 1
                }
                return (nil, -1)
            }
        }
    }
}

/// A render's decisions folded into 64 bits (see ``FastTemplate/render(_:strict:trace:)``): a
/// multiply-and-shift mix, a few cycles a step where `Hasher` took tens.
struct RenderTrace: Hashable, Sendable {
    private(set) var value: UInt64 = 0x243F_6A88_85A3_08D3

    mutating func combine(_ step: Int) {
        value = (value ^ UInt64(bitPattern: Int64(step))) &* 0x9E37_79B9_7F4A_7C15
        value ^= value >> 31
    }
}
