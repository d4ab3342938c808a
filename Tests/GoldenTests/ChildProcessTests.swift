import Foundation
import MLShCommon
import MLShRuntime
import Testing

/// `ChildProcess`, the one runner behind `mlsh test`'s scripts and the tests' `mlsh`:
/// output, input, exit codes and signals, timeouts, and the child's signal state.
@Suite struct ChildProcessTests {
    let env = ProcessInfo.processInfo.environment

    @Test func capturesOutputInputAndExitCode() throws {
        let r = try ChildProcess.run("/bin/sh", ["-c", "cat; echo oops >&2; exit 3"], stdin: "in\n", environment: env)
        #expect(r.code == 3 && r.signal == 0 && !r.timedOut)
        #expect(r.out == "in\n" && r.err == "oops\n")
        // Without input the child reads end of file at once.
        #expect(try ChildProcess.run("/bin/sh", ["-c", "cat"], environment: env).out == "")
    }

    @Test func aSignalAndATimeoutAreReported() throws {
        let killed = try ChildProcess.run("/bin/sh", ["-c", "kill -TERM $$"], environment: env)
        #expect(killed.signal == SIGTERM && killed.code == 128 + SIGTERM && !killed.timedOut)
        let start = Date()
        let slow = try ChildProcess.run("/bin/sh", ["-c", "sleep 30"], environment: env, timeout: 0.2)
        #expect(slow.timedOut && slow.signal == SIGKILL && slow.code == 128 + SIGKILL)
        #expect(Date().timeIntervalSince(start) < 10)
    }

    /// A child starts as from a shell, though the thread that starts it blocks signals
    /// (as the test runner's and Dispatch's threads do).
    @Test func theChildStartsWithNoSignalBlocked() throws {
        var block = sigset_t(), old = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGINT)
        sigaddset(&block, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &block, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        let r = try ChildProcess.run("/bin/sh", ["-c", "grep SigBlk /proc/self/status"], environment: env)
        #expect(r.out == "SigBlk:\t0000000000000000\n", "\(r.out)")
    }

    @Test func aProgramThatCannotStartIsNamed() {
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.run("/no/such/program", [], environment: env) }
        do {
            _ = try ChildProcess.spawn("/no/such/program", [], environment: env)
            Issue.record("spawned a missing program")
        } catch {
            #expect(error.description == "cannot start '/no/such/program' (error \(ENOENT))")
        }
    }

    /// A child gets its three standard streams and nothing else of the parent's (a
    /// server's listening socket stays the server's).
    @Test func aChildInheritsNoOtherDescriptor() throws {
        let fd = open("/dev/null", O_RDONLY)   // without O_CLOEXEC
        defer { close(fd) }
        #expect(fd > 2)
        let r = try ChildProcess.run("/bin/sh", ["-c", "ls /proc/$$/fd"], environment: [:])
        let open = r.out.split(separator: "\n").compactMap { Int32($0) }
        #expect(open.contains(0) && open.contains(1) && open.contains(2))
        #expect(!open.contains(fd), "the child has \(open)")
    }
}
