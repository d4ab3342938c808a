import Foundation
import GRDB
import Testing
import TestSupport
@testable import MLShStore

/// The sweep queue: trials claimed once each in order, a stopped worker's trial queued
/// again (or failed once out of retries), and a superseded attempt's results void.
@Suite struct SweepStoreTests {
    func sweep(_ store: Store, trials: Int, retries: Int = 2) throws -> Int64 {
        let s = SweepRecord(experiment: "e", script: "train.mls", source: "log(x = 1)", sourceHash: "sha256:x",
                            fixed: [("data", .string("d.csv"))], retries: retries, created: 1, by: "me@here")
        return try store.createSweep(s, trials: (0..<trials).map { [("alpha", .float(Double($0) / 10)), ("depth", .int(Int64($0)))] })
    }

    @Test(arguments: StoreBackend.allCases) func trialsAreClaimedOnceEachInOrder(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let id = try sweep(store, trials: 3)
        let s = try store.sweep(id)
        #expect(s.experiment == "e" && s.script == "train.mls" && s.fixed.map(\.0) == ["data"] && s.fixed[0].1 == .string("d.csv"))
        var claimed: [Int] = []
        while let c = try store.claimTrial(worker: "w\(claimed.count) 1", grace: 60) {
            #expect(c.attempt == 1 && c.sweep.id == id)
            claimed.append(c.trial.number)
            #expect(try store.finishTrial(c, error: c.trial.number == 2 ? "boom" : nil))
        }
        #expect(claimed == [1, 2, 3])
        let trials = try store.trials(sweep: id)
        #expect(trials.map(\.status) == ["finished", "failed", "finished"])
        #expect(trials[1].error == "boom")
        // Params keep their kinds: 0.0 stays a float, 0 an int.
        #expect(trials[0].params.map(\.1) == [.float(0), .int(0)])
        #expect(try store.claimTrial(grace: 60) == nil)
    }

    @Test(arguments: StoreBackend.allCases) func claimsCanBeLimitedToOneSweep(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let first = try sweep(store, trials: 1), second = try sweep(store, trials: 1)
        let c = try #require(try store.claimTrial(grace: 60, sweep: second))
        #expect(c.sweep.id == second)
        #expect(try store.claimTrial(grace: 60, sweep: second) == nil)
        #expect(try store.claimTrial(grace: 60)?.sweep.id == first)
    }

    /// A worker on another host that stops heartbeating loses its trial after the grace;
    /// its late results do not count; the trial fails once out of retries, with the reason.
    @Test(arguments: StoreBackend.allCases) func silentWorkersLoseTheirTrialsUntilRetriesRunOut(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let id = try sweep(store, trials: 1, retries: 1)
        let far = try #require(try store.claimTrial(worker: "elsewhere 42", grace: 0.2))
        #expect(try store.heartbeat(far))
        Thread.sleep(forTimeInterval: 0.35)
        // Requeued on the next claim, and claimed again: attempt 2.
        let near = try #require(try store.claimTrial(worker: "here 7", grace: 0.2))
        #expect(near.trial.id == far.trial.id && near.attempt == 2)
        #expect(try store.trials(sweep: id)[0].error?.contains("its worker (elsewhere 42) sent no heartbeat") == true)
        #expect(try store.heartbeat(far) == false)
        #expect(try store.finishTrial(far, error: nil) == false)
        #expect(try store.setTrialRun(far, run: 1) == false)
        // Attempt 2 stops too: out of retries (1), the trial fails with why.
        Thread.sleep(forTimeInterval: 0.35)
        #expect(try store.claimTrial(worker: "here 8", grace: 0.2) == nil)
        let t = try store.trials(sweep: id)[0]
        #expect(t.status == "failed" && t.attempts == 2)
        // The silence is 0.35 s or more (a whole second or more on a loaded machine).
        let reason = try #require(t.error)
        #expect(reason.hasPrefix("its worker (here 7) sent no heartbeat for ") && reason.hasSuffix(" s, on attempt 2 of 2"), "\(reason)")
        #expect(try store.finishTrial(near, error: nil) == false)
    }

    /// On this host a worker whose process is gone loses its trial at once.
    @Test(arguments: StoreBackend.allCases) func goneLocalWorkersLoseTheirTrialsAtOnce(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let id = try sweep(store, trials: 1)
        let c = try #require(try store.claimTrial(grace: 3600))
        // As if this claim had come from a process that has ended.
        try store.db.write { db in
            try db.execute(sql: "UPDATE trials SET worker = ?, worker_pid = ?, worker_identity = NULL WHERE id = ?",
                           arguments: [RunProcess.host + " 999999", Int32.max - 1, c.trial.id])
        }
        let again = try #require(try store.claimTrial(grace: 3600))
        #expect(again.attempt == 2)
        #expect(try store.trials(sweep: id)[0].error == "attempt 1: its worker (\(RunProcess.host) 999999) is gone")
    }

    @Test(arguments: StoreBackend.allCases) func aSweepNeedsTrials(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        #expect(throws: StoreError("a sweep needs at least one trial")) { _ = try sweep(store, trials: 0) }
    }
}
