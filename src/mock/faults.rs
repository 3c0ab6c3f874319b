//! The fault switches: small, named, deliberately non-conforming variants of
//! the reference mock, used by conform's own tests to prove that a case can
//! catch each kind of contract violation.
//!
//! A few switches are availability behaviours rather than contract
//! violations (rate limiting, transient and lasting 503s): they exist for
//! conform's retry tests, and [`Fault::is_contract_violation`] is false for
//! them, since a conforming client is expected to ride them out.
//!
//! Each fault changes exactly one behaviour. Handlers consult
//! `faults.contains(&Fault::X)` at the point where the deviation happens, so a
//! `grep` for a fault's variant name shows everything it does.

use std::fmt;

use super::server::Api;

/// Declares [`Fault`] together with its metadata table, so that the enum, the
/// names, the descriptions and [`Fault::all`] can never drift apart.
macro_rules! faults {
    ($( $(#[$doc:meta])* $variant:ident => ($api:ident, $name:literal, $description:literal), )+) => {
        /// A deliberately non-conforming behaviour of the mock.
        ///
        /// Faults are chosen by kebab-case [`name`](Fault::name) (see
        /// [`Fault::from_name`]); each belongs to one [`Api`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault {
            $( $(#[$doc])* $variant, )+
        }

        impl Fault {
            /// Every fault, in declaration order (Palisade first, then Ledger).
            pub fn all() -> &'static [Fault] {
                &[$(Fault::$variant,)+]
            }

            /// The fault's stable kebab-case name, e.g. `palisade-create-201`.
            pub fn name(self) -> &'static str {
                match self { $( Fault::$variant => $name, )+ }
            }

            /// A one-line description of the deviation.
            pub fn description(self) -> &'static str {
                match self { $( Fault::$variant => $description, )+ }
            }

            /// The API whose mock this fault applies to.
            pub fn api(self) -> Api {
                match self { $( Fault::$variant => Api::$api, )+ }
            }
        }
    };
}

faults! {
    /// `GET /v2/users/{id}` omits the required `email` field.
    PalisadeUserMissingRequired => (Palisade, "palisade-user-missing-required",
        "GET /v2/users/{id} omits the required `email` field"),
    /// User bodies carry `status: "ENABLED"`, which is not a v2UserStatus.
    PalisadeUserBadEnum => (Palisade, "palisade-user-bad-enum",
        "user bodies carry status \"ENABLED\", which is not a v2UserStatus value"),
    /// User bodies carry `createdAt: "29/03/2022 10:22"`, not RFC 3339.
    PalisadeUserBadDatetime => (Palisade, "palisade-user-bad-datetime",
        "user bodies carry createdAt \"29/03/2022 10:22\" instead of an RFC 3339 date-time"),
    /// User bodies carry `authLoginCount` as a string and `roles` as a comma string.
    PalisadeUserWrongType => (Palisade, "palisade-user-wrong-type",
        "user bodies carry authLoginCount as a string and roles as one comma-separated string"),
    /// `GET /v2/users/{id}` with an unknown id answers 200 `{}`.
    PalisadeUnknownId200 => (Palisade, "palisade-unknown-id-200",
        "GET /v2/users/{id} with an unknown id answers 200 {} instead of 404"),
    /// `POST /v2/users` answers 201 instead of the documented 200.
    PalisadeCreate201 => (Palisade, "palisade-create-201",
        "POST /v2/users answers 201 instead of the documented 200"),
    /// Responses carrying users are served as `text/plain`.
    PalisadeWrongContentType => (Palisade, "palisade-wrong-content-type",
        "responses carrying users are served with Content-Type text/plain"),
    /// A missing or wrong `Authorization` header is accepted.
    PalisadeAuthNotEnforced => (Palisade, "palisade-auth-not-enforced",
        "a missing or wrong Authorization header is accepted instead of 401"),
    /// `PUT /v2/users/{id}` answers the new names but does not store them.
    PalisadeUpdateNotPersisted => (Palisade, "palisade-update-not-persisted",
        "PUT /v2/users/{id} answers the new names but GET still shows the old ones"),
    /// `DELETE /v2/users/{id}` answers `{}` but the user stays.
    PalisadeDeleteNotRemoved => (Palisade, "palisade-delete-not-removed",
        "DELETE /v2/users/{id} answers {} but the user can still be fetched"),
    /// `GET /v2/users?role=` ignores the filter.
    PalisadeRoleFilterIgnored => (Palisade, "palisade-role-filter-ignored",
        "GET /v2/users?role=R returns every user, not only those holding R"),
    /// Blocking a user does not record `blockedReason`.
    PalisadeBlockedReasonDropped => (Palisade, "palisade-blocked-reason-dropped",
        "PUT /v2/users/{id}/status to BLOCKED does not record blockedReason"),
    /// `POST /v2/users` accepts an unknown role value.
    PalisadeInvalidRoleAccepted => (Palisade, "palisade-invalid-role-accepted",
        "POST /v2/users accepts a role that is not a v2Role value (200 instead of 400)"),
    /// Updates leave `updatedAt` unchanged.
    PalisadeUpdatedAtNotBumped => (Palisade, "palisade-updated-at-not-bumped",
        "PUT on a user (names, role, status) leaves updatedAt unchanged"),
    /// `GET /v2/users/{id}/mfa` answers an object instead of an array.
    PalisadeMfaNotArray => (Palisade, "palisade-mfa-not-array",
        "GET /v2/users/{id}/mfa answers {\"methods\": [...]} instead of a JSON array"),
    /// `PUT /v2/users/{id}/role` answers the new roles but does not store them.
    PalisadeRoleNotPersisted => (Palisade, "palisade-role-not-persisted",
        "PUT /v2/users/{id}/role answers the new roles but GET still shows the old ones"),
    /// `POST /v2/users` accepts a body missing required fields.
    PalisadeMissingFieldAccepted => (Palisade, "palisade-missing-field-accepted",
        "POST /v2/users without a required field (e.g. email) answers 200 instead of 400"),
    /// `PUT /v2/users/{id}/status` answers the new status but does not store it.
    PalisadeStatusNotPersisted => (Palisade, "palisade-status-not-persisted",
        "PUT /v2/users/{id}/status answers the new status but GET still shows the old one"),
    /// Every 3rd request to a users endpoint answers 429 (availability, not a violation).
    PalisadeRateLimited => (Palisade, "palisade-rate-limited",
        "every 3rd request to a users endpoint answers 429 RESOURCE_EXHAUSTED with Retry-After: 1"),
    /// The first `GET /v2/users/{id}` of each id answers 503 (availability, not a violation).
    PalisadeFlakyGet => (Palisade, "palisade-flaky-get",
        "the first GET /v2/users/{id} of each id answers 503 UNAVAILABLE with Retry-After: 0"),
    /// Every request answers 503 (availability, not a violation).
    PalisadeUnavailable => (Palisade, "palisade-unavailable",
        "every request answers 503 UNAVAILABLE with Retry-After: 1"),
    /// Any unknown id reads as the seeded user: the benchmark's `GET /v2/users/<n>` workload.
    PalisadeBenchAnyId => (Palisade, "palisade-bench-any-id",
        "GET /v2/users/{id} answers the seeded user for any unknown id (benchmark workload, not a contract test)"),
    /// ApiUser bodies lack the `workspace` field.
    LedgerMissingField => (LedgerEnterprise, "ledger-missing-field",
        "ApiUser bodies lack the `workspace` field"),
    /// Creating an existing name answers 200 instead of 400.
    LedgerDuplicateAccepted => (LedgerEnterprise, "ledger-duplicate-accepted",
        "POST /api_users with an existing name answers 200 instead of 400 \"User already exists\""),
    /// The `^\w{1,20}$` name pattern is not enforced.
    LedgerPatternNotEnforced => (LedgerEnterprise, "ledger-pattern-not-enforced",
        "POST /api_users accepts names that break ^\\w{1,20}$ (too long, punctuation)"),
    /// A name of exactly 20 characters is rejected.
    LedgerBoundaryOffByOne => (LedgerEnterprise, "ledger-boundary-off-by-one",
        "POST /api_users rejects a name of exactly 20 characters with 400"),
    /// An unknown name answers 200 with the seed user.
    LedgerUnknown200 => (LedgerEnterprise, "ledger-unknown-200",
        "GET /api_users/{name} with an unknown name answers 200 with the seed user instead of 404"),
    /// A missing or wrong `X-Ledger-API-Key` is accepted.
    LedgerAuthNotEnforced => (LedgerEnterprise, "ledger-auth-not-enforced",
        "a missing or wrong X-Ledger-API-Key header is accepted instead of 401"),
    /// `GET /api_users` answers a bare array instead of `{"api_users": [...]}`.
    LedgerListBareArray => (LedgerEnterprise, "ledger-list-bare-array",
        "GET /api_users answers a bare JSON array instead of {\"api_users\": [...]}"),
    /// `POST /api_users` answers 200 but does not store the user.
    LedgerCreateNotPersisted => (LedgerEnterprise, "ledger-create-not-persisted",
        "POST /api_users answers 200 but GET /api_users/{name} then answers 404"),
    /// Every 3rd request to an API users endpoint answers 420 (availability, not a violation).
    LedgerRateLimited => (LedgerEnterprise, "ledger-rate-limited",
        "every 3rd request to an API users endpoint answers 420 with X-RateLimit-* and Retry-After: 1"),
}

impl Fault {
    /// Looks a fault up by its kebab-case [`name`](Fault::name).
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::all().iter().copied().find(|f| f.name() == name)
    }

    /// Whether the fault breaks the documented contract, so that a shipped
    /// case must catch it. False for the availability behaviours (rate
    /// limits, 503s), which a conforming server may show at any time and
    /// which exist for conform's retry tests.
    pub fn is_contract_violation(self) -> bool {
        !matches!(
            self,
            Fault::PalisadeRateLimited
                | Fault::PalisadeFlakyGet
                | Fault::PalisadeUnavailable
                | Fault::PalisadeBenchAnyId
                | Fault::LedgerRateLimited
        )
    }

    /// The faults that apply to `api`, in declaration order.
    pub fn for_api(api: Api) -> impl Iterator<Item = Fault> {
        Fault::all().iter().copied().filter(move |f| f.api() == api)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_kebab_case_and_prefixed_by_their_api() {
        let mut seen = HashSet::new();
        for fault in Fault::all() {
            let name = fault.name();
            assert!(seen.insert(name), "duplicate fault name {name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{name} is not kebab-case"
            );
            let prefix = match fault.api() {
                Api::Palisade => "palisade-",
                Api::LedgerEnterprise => "ledger-",
            };
            assert!(
                name.starts_with(prefix),
                "{name} should start with {prefix}"
            );
            assert!(!fault.description().is_empty());
            assert!(!fault.description().contains('\n'));
        }
        assert!(Fault::all().len() >= 17);
    }

    #[test]
    fn from_name_round_trips() {
        for fault in Fault::all() {
            assert_eq!(Fault::from_name(fault.name()), Some(*fault));
            assert_eq!(fault.to_string(), fault.name());
        }
        assert_eq!(Fault::from_name("no-such-fault"), None);
    }

    #[test]
    fn for_api_partitions_the_table() {
        let palisade = Fault::for_api(Api::Palisade).count();
        let ledger = Fault::for_api(Api::LedgerEnterprise).count();
        assert_eq!(palisade + ledger, Fault::all().len());
        assert_eq!(palisade, 22);
        assert_eq!(ledger, 9);
    }

    #[test]
    fn only_the_availability_and_bench_faults_are_not_contract_violations() {
        let not: Vec<&str> = Fault::all()
            .iter()
            .filter(|f| !f.is_contract_violation())
            .map(|f| f.name())
            .collect();
        assert_eq!(
            not,
            [
                "palisade-rate-limited",
                "palisade-flaky-get",
                "palisade-unavailable",
                "palisade-bench-any-id",
                "ledger-rate-limited",
            ]
        );
    }
}
