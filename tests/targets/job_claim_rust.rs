// job_claim_rust: the job-claim story as a Rust service writes it.  Workers look for a pending
// job under the queue's lock (the check), let go of it to write an audit line, then claim the
// job under the ledger's lock (the act).  Two workers between the check and the claim charge
// one job twice.  std::sync::Mutex is futex-based: no pthread mutex call anywhere.
//
// Natively the first worker has usually claimed every job before the next one starts.
// Built with --cfg wedge_fixed: the check and the claim happen under the queue's one lock.
use std::sync::{Arc, Mutex};
use std::thread;

const WORKERS: usize = 4;
const JOBS: usize = 6;

struct Job {
    id: usize,
    claimed: bool,
}

fn main() {
    let queue = Arc::new(Mutex::new(
        (0..JOBS).map(|id| Job { id, claimed: false }).collect::<Vec<_>>(),
    ));
    let ledger: Arc<Mutex<Vec<(usize, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let queue = Arc::clone(&queue);
        let ledger = Arc::clone(&ledger);
        workers.push(thread::spawn(move || {
            loop {
                // the check: the first pending job
                let job = {
                    let mut q = queue.lock().unwrap();
                    let found = q.iter_mut().find(|j| !j.claimed).map(|j| {
                        if cfg!(wedge_fixed) {
                            j.claimed = true;
                        }
                        j.id
                    });
                    found
                };
                let id = match job {
                    Some(id) => id,
                    None => break,
                };
                let audit = format!("worker {} takes job {}", w, id);
                // the act: charge the job, then mark it claimed
                ledger.lock().unwrap().push((id, audit));
                if !cfg!(wedge_fixed) {
                    queue.lock().unwrap()[id].claimed = true;
                }
            }
        }));
    }
    for h in workers {
        h.join().unwrap();
    }
    let ledger = ledger.lock().unwrap();
    let mut charges = [0usize; JOBS];
    for (id, _) in ledger.iter() {
        charges[*id] += 1;
    }
    for (id, c) in charges.iter().enumerate() {
        if *c != 1 {
            println!("job_claim_rust: duplicate charge: job {} charged {} times", id, c);
            std::process::exit(1);
        }
    }
}
