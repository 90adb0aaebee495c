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
    /// One step, plain data: what it works on is in the program's tables. Steps that carried
    /// their strings, closures and children were copied out of the array at every step of every
    /// render, each copy retaining and releasing what it held (about 90 atomic operations a unit).
    private enum Step: Sendable {
        /// `texts[index]`.
        case text(Int)
        /// `{{product.<field>}}`, a field with one value: `readers[index]`.
        case field(Int, id: Int)
        /// `{{.}}` in a section over a string or a list of strings.
        case item(id: Int)
        /// A member of a detail or attribute, in a section over them.
        case member(Member, id: Int)
        /// A section over `sections[index]`; its children are the steps after it, up to `end`.
        case section(Int, inverted: Bool, id: Int, end: Int)
    }

    private enum Member: Sendable {
        case sectionName, attributeName, attributeValue, name, value
    }

    /// What the innermost section pushed on the context stack.
    private enum Scope {
        case root, string, detail, attribute
    }

    private let steps: [Step]
    private let texts: [String]
    private let readers: [Reader]
    private let sections: [RenderContext.ProductField]

    /// A field's reader in a struct: an array of bare closures holds them at their most general
    /// type, and every call went through a thunk that copied the whole product.
    private struct Reader {
        let read: @Sendable (Product) -> String?
    }

    /// The program as it is compiled.
    private struct Builder {
        var steps: [Step] = []
        var texts: [String] = []
        var readers: [Reader] = []
        var sections: [RenderContext.ProductField] = []

        /// The last step is a text that the next one can join: not one that ended a section's children.
        private var textCanGrow = false

        mutating func appendText(_ text: String) {
            if textCanGrow, case .text(let index) = steps.last {
                texts[index] += text
            } else {
                steps.append(.text(texts.count))
                texts.append(text)
                textCanGrow = true
            }
        }

        mutating func append(_ step: Step) {
            steps.append(step)
            textCanGrow = false
        }

        /// Makes the step at `index` a section whose children are the steps after it.
        mutating func closeSection(
            at index: Int, over field: RenderContext.ProductField, inverted: Bool, id: Int
        ) {
            steps[index] = .section(sections.count, inverted: inverted, id: id, end: steps.count)
            sections.append(field)
            textCanGrow = false
        }
    }

    /// Compiles `template`'s nodes, or gives `nil` for a text outside what programs do: a name that
    /// never resolves, a section over the product inside one over details or attributes, a section
    /// over a brand or locale value that holds product names, anything but a string where one is written.
    init?(_ template: FastTemplate, brand: RenderContext.Value, locale: RenderContext.Value) {
        let constants: RenderContext.Members = ["brand": brand, "product": .map([:]), "locale": locale]
        var builder = Builder()
        guard Self.compile(template.nodes, scope: .root, itemField: nil, constants: constants, into: &builder) else {
            return nil
        }
        (steps, texts, readers, sections) = (
            builder.steps, builder.texts, builder.readers, builder.sections
        )
    }

    /// - Parameter itemField: The product field whose value the innermost section pushed, if it
    ///   was a field with one value: `{{product.<it>}}` inside is that item, read again for nothing.
    private static func compile(
        _ nodes: [FastTemplate.Node], scope: Scope, itemField: String?, constants: RenderContext.Members,
        into program: inout Builder
    ) -> Bool {
        for node in nodes {
            switch node {
            case .text(let text):
                program.appendText(text)
            case .variable(let path, let id):
                if path == ["."] {
                    guard scope == .string else { return false }
                    program.append(.item(id: id))
                } else if let member = member(path, in: scope) {
                    program.append(.member(member, id: id))
                } else if path.first == "product", path.count == 2, path[1] == itemField {
                    program.append(.item(id: id))
                } else if path.first == "product" {
                    guard path.count == 2, case .text(let read) = RenderContext.ProductField.named(path[1])
                    else { return false }
                    program.append(.field(program.readers.count, id: id))
                    program.readers.append(Reader(read: read))
                } else {
                    // A brand or locale value, the same for every product.
                    guard case .string(let text) = constant(path, in: constants) else { return false }
                    program.appendText(text)
                }
            case .section(let path, let children, let inverted, let id):
                if path.first == "product" {
                    // Not inside a section over details or attributes: their members' names would
                    // have to be looked for past the new item.
                    guard scope == .root || scope == .string, path.count == 2,
                        let field = RenderContext.ProductField.named(path[1])
                    else {
                        return false
                    }
                    let inner: Scope
                    switch field {
                    case _ where inverted: inner = scope
                    case .text, .strings: inner = .string
                    case .details: inner = .detail
                    case .attributes: inner = .attribute
                    }
                    let at = program.steps.count
                    program.append(.item(id: 0))  // becomes the section once its children are in
                    let innerItemField: String? =
                        switch field {
                        case _ where inverted: itemField
                        case .text: path[1]
                        default: nil
                        }
                    guard compile(children, scope: inner, itemField: innerItemField, constants: constants, into: &program) else {
                        return false
                    }
                    program.closeSection(at: at, over: field, inverted: inverted, id: id)
                } else {
                    // Over a brand or locale value: rendered now, when nothing in it names the product
                    // (outside every section over the product: names in it could resolve to their items).
                    guard scope == .root, !namesProduct(children) else { return false }
                    var output = ByteBuffer(capacity: 256)
                    var stack: [RenderContext.Value] = []
                    var trace = RenderTrace()
                    guard
                        FastTemplate(nodes: [node]).render(
                            constants, strict: true, trace: &trace, into: &output, stack: &stack)
                    else { return false }
                    program.appendText(String(decoding: output.written, as: UTF8.self))
                }
            }
        }
        return true
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

    private static func constant(_ path: [String], in root: RenderContext.Members) -> RenderContext
        .Value?
    {
        guard let first = path.first, first == "brand" || first == "locale", var found = root[first]
        else { return nil }
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
    func render(_ product: borrowing Product, trace: inout RenderTrace, into output: inout ByteBuffer) -> Bool {
        steps.withUnsafeBufferPointer { steps in
            texts.withUnsafeBufferPointer { texts in
                readers.withUnsafeBufferPointer { readers in
                    sections.withUnsafeBufferPointer { sections in
                        Run(steps: steps, texts: texts, readers: readers, sections: sections)
                            .run(0..<steps.count, product: product, item: .none, trace: &trace, output: &output)
                    }
                }
            }
        }
    }

    /// The value the innermost section over the product pushed: it points into the product (or
    /// at a value the section holds) for as long as the section runs, so that nothing is copied.
    private enum Item {
        case none
        case string(UnsafePointer<String>)
        case detail(UnsafePointer<Product.Detail>)
        case attribute(UnsafePointer<Product.Attribute>)
    }

    /// The program's tables, lent for one render.
    private struct Run {
        let steps: UnsafeBufferPointer<Step>
        let texts: UnsafeBufferPointer<String>
        let readers: UnsafeBufferPointer<Reader>
        let sections: UnsafeBufferPointer<RenderContext.ProductField>

        func run(
            _ range: Range<Int>, product: borrowing Product, item: Item, trace: inout RenderTrace,
            output: inout ByteBuffer
        ) -> Bool {
            var index = range.lowerBound
            while index < range.upperBound {
                let step = steps[index]
                index += 1
                switch step {
                case .text(let text):
                    output.append(texts[text])
                case .field(let reader, let id):
                    guard let text = readers[reader].read(product) else {
                        ProductTextProgram.record(id, kind: 0, &trace)
                        return false
                    }
                    ProductTextProgram.write(text, id: id, &trace, &output)
                case .item(let id):
                    guard case .string(let text) = item else { return false }
                    ProductTextProgram.write(text.pointee, id: id, &trace, &output)
                case .member(let member, let id):
                    let text: String?
                    switch (member, item) {
                    case (.sectionName, .detail(let detail)):
                        text = detail.pointee.sectionName.flatMap { $0.isEmpty ? nil : $0 }
                    case (.attributeName, .detail(let detail)): text = detail.pointee.attributeName
                    case (.attributeValue, .detail(let detail)): text = detail.pointee.attributeValue
                    case (.name, .attribute(let attribute)): text = attribute.pointee.name
                    case (.value, .attribute(let attribute)): text = attribute.pointee.value
                    default: text = nil
                    }
                    guard let text else {
                        ProductTextProgram.record(id, kind: 0, &trace)
                        return false
                    }
                    ProductTextProgram.write(text, id: id, &trace, &output)
                case .section(let field, let inverted, let id, let end):
                    let children = index..<end
                    index = end
                    guard
                        section(
                            sections[field], children, inverted: inverted, id: id, product: product, item: item,
                            trace: &trace, output: &output)
                    else { return false }
                }
            }
            return true
        }

        private func section(
            _ field: RenderContext.ProductField, _ children: Range<Int>, inverted: Bool, id: Int,
            product: borrowing Product, item: Item,
            trace: inout RenderTrace, output: inout ByteBuffer
        ) -> Bool {
            switch field {
            case .text(let read):
                let value = read(product)
                // Present or not is the whole decision: what the value holds is recorded where it
                // is written.
                ProductTextProgram.record(id, kind: value == nil ? 0 : 1, &trace)
                if inverted {
                    return value != nil
                        || run(children, product: product, item: item, trace: &trace, output: &output)
                }
                guard let value else { return true }
                return withUnsafePointer(to: value) {
                    run(children, product: product, item: .string($0), trace: &trace, output: &output)
                }
            case .strings(let read):
                let values = read(product)
                return list(values, children, inverted: inverted, id: id, product: product, item: item, trace: &trace, output: &output, as: Item.string)
            case .details:
                return list(
                    product.details, children, inverted: inverted, id: id, product: product, item: item, trace: &trace, output: &output,
                    as: Item.detail)
            case .attributes:
                return list(
                    product.extraAttributes, children, inverted: inverted, id: id, product: product, item: item, trace: &trace,
                    output: &output, as: Item.attribute)
            }
        }

        /// A section over a list: its length is the decision, and its children run for each item
        /// (inverted: once, when the list is empty).
        private func list<Element>(
            _ elements: [Element], _ children: Range<Int>, inverted: Bool, id: Int, product: borrowing Product, item: Item,
            trace: inout RenderTrace, output: inout ByteBuffer, as makeItem: (UnsafePointer<Element>) -> Item
        ) -> Bool {
            ProductTextProgram.record(id, kind: 5, &trace)
            trace.combine(elements.count)
            if inverted { return elements.isEmpty ? run(children, product: product, item: item, trace: &trace, output: &output) : true }
            return elements.withUnsafeBufferPointer { elements in
                elements.indices.allSatisfy {
                    run(children, product: product, item: makeItem(elements.baseAddress! + $0), trace: &trace, output: &output)
                }
            }
        }
    }

    private static func write(
        _ text: String, id: Int, _ trace: inout RenderTrace, _ output: inout ByteBuffer
    ) {
        let start = output.count
        output.append(text)
        record(
            id, kind: FastTemplate.kind(of: UnsafeBufferPointer(rebasing: output.written[start...])),
            &trace)
    }

    private static func record(_ id: Int, kind: Int, _ trace: inout RenderTrace) {
        trace.combine(id)
        trace.combine(kind)
    }
}
