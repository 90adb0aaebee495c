/// Bytes appended to memory the buffer owns: one capacity check and a `memcpy` an append.
///
/// The hot loops of planning (rendering a product's texts, writing plan lines) append many short
/// strings; `[UInt8]`'s appends check uniqueness and capacity each time and went through generic
/// code for a string's bytes, which cost a fifth of encoding and most of a render's copying.
///
/// Public and `@inlinable` so that plan lines, written in another module, inline its appends:
/// as `package` declarations they stayed calls, a third of encoding's instructions.
public struct ByteBuffer: ~Copyable {
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var capacity: Int
    @usableFromInline var length: Int

    public init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
        length = 0
    }

    /// Bytes appended so far.
    @inlinable public var count: Int { length }

    deinit { base.deallocate() }

    /// The bytes appended so far; valid until the next append.
    @inlinable public var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: length) }

    public mutating func removeAll() { length = 0 }

    /// Lets `body` rewrite the bytes in place; the first ones, as many as it returns, are kept.
    public mutating func rewrite(_ body: (UnsafeMutableBufferPointer<UInt8>) -> Int) {
        length = min(max(body(UnsafeMutableBufferPointer(start: base, count: length)), 0), length)
    }

    /// Room for `extra` more bytes.
    @inlinable @inline(__always)
    public mutating func reserve(_ extra: Int) {
        if length + extra > capacity { grow(length + extra) }
    }

    @usableFromInline
    mutating func grow(_ needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: length)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inlinable @inline(__always)
    public mutating func append(_ byte: UInt8) {
        reserve(1)
        base[length] = byte
        length += 1
    }

    @inlinable @inline(__always)
    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        let count = bytes.count
        reserve(count)
        if count >= 4, count <= 16 {
            // Most appends are a few bytes (a field, a literal): two loads and two stores that
            // overlap in the middle, rather than a call to `memmove`.
            let from = UnsafeRawPointer(source)
            let to = UnsafeMutableRawPointer(base + length)
            if count >= 8 {
                let first = from.loadUnaligned(as: UInt64.self)
                let last = from.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
                to.storeBytes(of: first, as: UInt64.self)
                to.storeBytes(of: last, toByteOffset: count &- 8, as: UInt64.self)
            } else {
                let first = from.loadUnaligned(as: UInt32.self)
                let last = from.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
                to.storeBytes(of: first, as: UInt32.self)
                to.storeBytes(of: last, toByteOffset: count &- 4, as: UInt32.self)
            }
        } else {
            (base + length).update(from: source, count: count)
        }
        length += count
    }

    /// A string's UTF-8, from its own storage when it has some.
    @inlinable @inline(__always)
    public mutating func append(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ append($0) }) == nil {
            var text = text
            text.withUTF8 { append($0) }
        }
    }

    @inlinable @inline(__always)
    public mutating func append(_ text: StaticString) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends the bytes `body` writes in place: at most `maximum`, as many as it returns.
    @inlinable @inline(__always)
    public mutating func append(atMost maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(maximum)
        let written = body(base + length)
        assert(written >= 0 && written <= maximum, "wrote \(written) bytes where at most \(maximum) were reserved")
        length += written
    }

    /// Appends `extra` bytes that `body` writes in place.
    @inlinable @inline(__always)
    public mutating func append(length extra: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) {
        reserve(extra)
        body(base + length)
        length += extra
    }
}
