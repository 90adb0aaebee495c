import Foundation

/// One object per thread, made on the thread's first use and released when the thread ends: for
/// scratch state a hot loop reuses without locks, and that two cores never touch together (their
/// caches would pass its lines back and forth). Keep it in a `static let`: its key lives for the process.
public final class PerThread<Value: AnyObject>: @unchecked Sendable {
    private let key: pthread_key_t
    private let make: @Sendable () -> Value

    public init(_ make: @escaping @Sendable () -> Value) {
        var key = pthread_key_t()
        pthread_key_create(&key) { stored in
            guard let stored else { return }
            Unmanaged<AnyObject>.fromOpaque(stored).release()
        }
        self.key = key
        self.make = make
    }

    /// The calling thread's object.
    public var value: Value {
        if let stored = pthread_getspecific(key) { return Unmanaged<Value>.fromOpaque(stored).takeUnretainedValue() }
        let made = make()
        pthread_setspecific(key, Unmanaged.passRetained(made).toOpaque())
        return made
    }
}
