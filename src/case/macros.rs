//! Small helpers for the YAML shapes.

/// Implements `Deserialize` for a struct that may also be written as a plain
/// string. The struct derives its map form with `#[serde(remote = "Self")]`,
/// so serde's own errors (unknown keys with the expected list, wrong types)
/// survive, which an untagged enum would hide behind "did not match any variant".
macro_rules! string_or_map {
    ($ty:ident, $expecting:literal, |$s:ident| $from_str:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        let $s = v.to_owned();
                        Ok($from_str)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$ty, A::Error> {
                        $ty::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                d.deserialize_any(V)
            }
        }
        /// Always the map form, which reads back the same.
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $ty::serialize(self, s)
            }
        }
    };
}
