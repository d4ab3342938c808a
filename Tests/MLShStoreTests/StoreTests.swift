import Testing
@testable import MLShStore
@Test func placeholder() {}
