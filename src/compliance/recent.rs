//! People's facts kept between requests: one person's `compliance` is asked
//! again and again (a dashboard refreshing, a supervisor paging back), and
//! reading their roles, evidence and completions was most of its cost.
//!
//! An entry is reused only while `facts_generation`, which triggers bump on
//! every write to those tables (migration `m20261205_000009`), still holds the
//! number the entry was read at. The caller reads that number in the same
//! statement as the person row, before reading the facts, so an entry is never
//! newer than the number it is filed under: a write committed in between only
//! makes the entry look older than it is, and it is read again next time.
//!
//! The cache is bounded: past [`CAPACITY`] people the oldest entry goes. A
//! person's facts take a few kilobytes, so it stays within about 20 MB.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use entity::{evidence, role_assignment};

use super::engine::CompletionFact;

/// How many (person, year) entries are kept at most.
pub const CAPACITY: usize = 4096;

/// What the engine reads of one person beside the person row.
#[derive(Debug, Clone, Default)]
pub struct PersonRows {
    pub roles: Vec<role_assignment::Model>,
    pub evidence: Vec<evidence::Model>,
    /// The completions of the two-year window ending with the year, sorted
    /// by date and id.
    pub completions: Vec<CompletionFact>,
    /// Catalog courses completed before the window: never recommended.
    pub taken_elsewhere: Vec<i32>,
}

/// Whose facts for which year.
type Key = (i32, i32);

/// Recently read facts, all of one generation.
#[derive(Default)]
pub struct RecentFacts {
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    generation: i64,
    entries: HashMap<Key, Arc<PersonRows>>,
    /// Keys in the order they were filed, oldest first.
    order: VecDeque<Key>,
}

impl RecentFacts {
    /// The person's facts for the year if they were read at this generation.
    pub fn get(&self, generation: i64, person_id: i32, year: i32) -> Option<Arc<PersonRows>> {
        let held = self.held.lock().ok()?;
        if held.generation != generation {
            return None;
        }
        held.entries.get(&(person_id, year)).cloned()
    }

    /// Files facts read at `generation`. A newer generation empties the cache
    /// first; facts of an older one than held are not kept.
    pub fn put(&self, generation: i64, person_id: i32, year: i32, rows: Arc<PersonRows>) {
        let Ok(mut held) = self.held.lock() else { return };
        if generation < held.generation {
            return;
        }
        if generation > held.generation {
            *held = Held {
                generation,
                ..Held::default()
            };
        }

        let key = (person_id, year);
        if held.entries.insert(key, rows).is_none() {
            held.order.push_back(key);
        }
        while held.entries.len() > CAPACITY {
            let Some(oldest) = held.order.pop_front() else { break };
            held.entries.remove(&oldest);
        }
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.held.lock().map_or(0, |held| held.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Arc<PersonRows> {
        Arc::new(PersonRows::default())
    }

    #[test]
    fn entries_are_reused_only_at_their_generation() {
        let recent = RecentFacts::default();
        recent.put(7, 1, 2026, rows());

        assert!(recent.get(7, 1, 2026).is_some());
        assert!(recent.get(7, 1, 2025).is_none(), "another year");
        assert!(recent.get(7, 2, 2026).is_none(), "another person");
        assert!(recent.get(8, 1, 2026).is_none(), "written since");
        assert!(recent.get(6, 1, 2026).is_none(), "a reader behind the writes");
    }

    #[test]
    fn a_newer_generation_drops_the_older_entries_and_an_older_one_is_not_kept() {
        let recent = RecentFacts::default();
        recent.put(7, 1, 2026, rows());
        recent.put(7, 2, 2026, rows());

        recent.put(8, 3, 2026, rows());
        assert_eq!(recent.len(), 1);
        assert!(recent.get(8, 3, 2026).is_some());

        recent.put(7, 4, 2026, rows());
        assert!(recent.get(7, 4, 2026).is_none());
        assert!(recent.get(8, 4, 2026).is_none());
        assert_eq!(recent.len(), 1);
    }

    #[test]
    fn past_capacity_the_oldest_entry_goes() {
        let recent = RecentFacts::default();
        for person in 0..CAPACITY as i32 {
            recent.put(1, person, 2026, rows());
        }
        recent.put(1, 0, 2026, rows());
        assert_eq!(recent.len(), CAPACITY, "filing a held key again adds nothing");

        recent.put(1, -1, 2026, rows());
        assert_eq!(recent.len(), CAPACITY);
        assert!(recent.get(1, 0, 2026).is_none(), "the first filed went first");
        assert!(recent.get(1, 1, 2026).is_some());
        assert!(recent.get(1, -1, 2026).is_some());
    }
}
