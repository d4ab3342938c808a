import Testing
@testable import MLShServe
