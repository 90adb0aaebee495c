/// A text that names the product, compiled against one brand and locale, for the hot loop of planning.
///
/// ``FastTemplate`` looks every name up in a context built for each product: a map of the
/// product's fields, searched by name, with values copied (and so retained and released) at each
/// step. A program resolves the brand's and the locale's names once, when the template is prepared,
/// and reads the product's fields straight from the ``Product``. Only the shapes Onbrand's templates
/// use compile (see ``init(_:brand:locale:)``); the caller keeps the ``FastTemplate`` for the rest.
///
/// A program writes what the fast renderer writes. Like it, it records the decisions it made, so
/// that each new way through the text is still compared with swift-mustache's render.
struct ProductTextProgram: Sendable {
    private enum Step: Sendable {
        case text(String)
        /// `{{product.<field>}}`, a field with one value.
        case field(@Sendable (Product) -> String?, id: Int)
        /// `{{.}}` in a section over a string or a list of strings.
        case item(id: Int)
        /// A member of a detail or attribute, in a section over them.
        case member(Member, id: Int)
        case section(RenderContext.ProductField, [Step], inverted: Bool, id: Int)
    }

    private enum Member: Sendable {
        case sectionName, attributeName, attributeValue, name, value
    }

    /// What the innermost section pushed on the context stack.
    private enum Scope {
        case root, string, detail, attribute
    }

    private let steps: [Step]

    /// Compiles `template`'s nodes, or gives `nil` for a text outside what programs do: a name that
    /// never resolves, a section over the product inside one over details or attributes, a section
    /// over a brand or locale value that holds product names, anything but a string where one is written.
    init?(_ template: FastTemplate, brand: RenderContext.Value, locale: RenderContext.Value) {
        let constants: RenderContext.Members = ["brand": brand, "product": .map([:]), "locale": locale]
        guard let steps = Self.compile(template.nodes, scope: .root, constants: constants) else { return nil }
        self.steps = steps
    }

    private static func compile(_ nodes: [FastTemplate.Node], scope: Scope, constants: RenderContext.Members) -> [Step]? {
        var steps: [Step] = []
        func appendText(_ text: String) {
            if case .text(let previous) = steps.last {
                steps[steps.count - 1] = .text(previous + text)
            } else {
                steps.append(.text(text))
            }
        }
        for node in nodes {
            switch node {
            case .text(let text):
                appendText(text)
            case .variable(let path, let id):
                if path == ["."] {
                    guard scope == .string else { return nil }
                    steps.append(.item(id: id))
                } else if let member = member(path, in: scope) {
                    steps.append(.member(member, id: id))
                } else if path.first == "product" {
                    guard path.count == 2, case .text(let read) = RenderContext.ProductField.named(path[1]) else { return nil }
                    steps.append(.field(read, id: id))
                } else {
                    // A brand or locale value, the same for every product.
                    guard case .string(let text) = constant(path, in: constants) else { return nil }
                    appendText(text)
                }
            case .section(let path, let children, let inverted, let id):
                if path.first == "product" {
                    // Not inside a section over details or attributes: their members' names would
                    // have to be looked for past the new item.
                    guard scope == .root || scope == .string, path.count == 2, let field = RenderContext.ProductField.named(path[1]) else {
                        return nil
                    }
                    let inner: Scope
                    switch field {
                    case _ where inverted: inner = scope
                    case .text, .strings: inner = .string
                    case .details: inner = .detail
                    case .attributes: inner = .attribute
                    }
                    guard let compiled = compile(children, scope: inner, constants: constants) else { return nil }
                    steps.append(.section(field, compiled, inverted: inverted, id: id))
                } else {
                    // Over a brand or locale value: rendered now, when nothing in it names the product
                    // (outside every section over the product: names in it could resolve to their items).
                    guard scope == .root, !namesProduct(children) else { return nil }
                    var output = ByteBuffer(capacity: 256)
                    var stack: [RenderContext.Value] = []
                    var trace = RenderTrace()
                    guard FastTemplate(nodes: [node]).render(constants, strict: true, trace: &trace, into: &output, stack: &stack) else { return nil }
                    appendText(String(decoding: output.written, as: UTF8.self))
                }
            }
        }
        return steps
    }

    /// The member `path` names in a section over details or attributes.
    private static func member(_ path: [String], in scope: Scope) -> Member? {
        guard path.count == 1 else { return nil }
        switch (scope, path[0]) {
        case (.detail, "section_name"): return .sectionName
        case (.detail, "attribute_name"): return .attributeName
        case (.detail, "attribute_value"): return .attributeValue
        case (.attribute, "name"): return .name
        case (.attribute, "value"): return .value
        default: return nil
        }
    }

    private static func constant(_ path: [String], in root: RenderContext.Members) -> RenderContext.Value? {
        guard let first = path.first, first == "brand" || first == "locale", var found = root[first] else { return nil }
        for name in path.dropFirst() {
            guard case .map(let members) = found, let next = members[name] else { return nil }
            found = next
        }
        return found
    }

    private static func namesProduct(_ nodes: [FastTemplate.Node]) -> Bool {
        nodes.contains { node in
            switch node {
            case .text: false
            case .variable(let path, _): path.first == "product"
            case .section(let path, let children, _, _): path.first == "product" || namesProduct(children)
            }
        }
    }

    /// Appends the text for `product` to `output`, as ``FastTemplate/render(_:strict:trace:into:stack:)``
    /// does with `strict`; `false` when a variable does not resolve.
    ///
    /// Its `trace` is its own, not the fast renderer's: it records the kind of each product value
    /// and whether each section over the product is taken, but no depths (they were resolved when it
    /// was compiled) and nothing for constants. That is enough because a text of a
    /// ``PreparedTemplate`` always renders through the same one of the two, for the brand and locale
    /// it was compiled against, so its traces are only ever compared with each other.
    func render(_ product: Product, trace: inout RenderTrace, into output: inout ByteBuffer) -> Bool {
        Self.run(steps, product: product, item: .none, trace: &trace, output: &output)
    }

    /// The value the innermost section over the product pushed.
    private enum Item {
        case none
        case string(String)
        case detail(Product.Detail)
        case attribute(Product.Attribute)
    }

    private static func run(_ steps: [Step], product: Product, item: Item, trace: inout RenderTrace, output: inout ByteBuffer) -> Bool {
        // Through the buffer: each step is lent to the loop, not copied.
        steps.withUnsafeBufferPointer { steps in run(steps, product: product, item: item, trace: &trace, output: &output) }
    }

    private static func run(
        _ steps: UnsafeBufferPointer<Step>, product: Product, item: Item, trace: inout RenderTrace, output: inout ByteBuffer
    ) -> Bool {
        for index in steps.indices {
            switch steps[index] {
            case .text(let text):
                output.append(text)
            case .field(let read, let id):
                guard let text = read(product) else {
                    record(id, kind: 0, &trace)
                    return false
                }
                write(text, id: id, &trace, &output)
            case .item(let id):
                guard case .string(let text) = item else { return false }
                write(text, id: id, &trace, &output)
            case .member(let member, let id):
                let text: String?
                switch (member, item) {
                case (.sectionName, .detail(let detail)): text = detail.sectionName.flatMap { $0.isEmpty ? nil : $0 }
                case (.attributeName, .detail(let detail)): text = detail.attributeName
                case (.attributeValue, .detail(let detail)): text = detail.attributeValue
                case (.name, .attribute(let attribute)): text = attribute.name
                case (.value, .attribute(let attribute)): text = attribute.value
                default: text = nil
                }
                guard let text else {
                    record(id, kind: 0, &trace)
                    return false
                }
                write(text, id: id, &trace, &output)
            case .section(let field, let children, let inverted, let id):
                switch field {
                case .text(let read):
                    let value = read(product)
                    // Present or not is the whole decision: what the value holds is recorded
                    // where it is written.
                    record(id, kind: value == nil ? 0 : 1, &trace)
                    if inverted {
                        if value == nil, !run(children, product: product, item: item, trace: &trace, output: &output) { return false }
                    } else if let value, !run(children, product: product, item: .string(value), trace: &trace, output: &output) {
                        return false
                    }
                case .strings(let read):
                    let values = read(product)
                    record(id, kind: 5, &trace)
                    trace.combine(values.count)
                    if inverted {
                        if values.isEmpty, !run(children, product: product, item: item, trace: &trace, output: &output) { return false }
                    } else {
                        for value in values {
                            if !run(children, product: product, item: .string(value), trace: &trace, output: &output) { return false }
                        }
                    }
                case .details:
                    record(id, kind: 5, &trace)
                    trace.combine(product.details.count)
                    if inverted {
                        if product.details.isEmpty, !run(children, product: product, item: item, trace: &trace, output: &output) { return false }
                    } else {
                        for detail in product.details {
                            if !run(children, product: product, item: .detail(detail), trace: &trace, output: &output) { return false }
                        }
                    }
                case .attributes:
                    record(id, kind: 5, &trace)
                    trace.combine(product.extraAttributes.count)
                    if inverted {
                        if product.extraAttributes.isEmpty, !run(children, product: product, item: item, trace: &trace, output: &output) {
                            return false
                        }
                    } else {
                        for attribute in product.extraAttributes {
                            if !run(children, product: product, item: .attribute(attribute), trace: &trace, output: &output) { return false }
                        }
                    }
                }
            }
        }
        return true
    }

    private static func write(_ text: String, id: Int, _ trace: inout RenderTrace, _ output: inout ByteBuffer) {
        let start = output.count
        output.append(text)
        record(id, kind: FastTemplate.kind(of: UnsafeBufferPointer(rebasing: output.written[start...])), &trace)
    }

    private static func record(_ id: Int, kind: Int, _ trace: inout RenderTrace) {
        trace.combine(id)
        trace.combine(kind)
    }
}
