//! Diesel table definitions, written to match migrations/{sqlite,postgres}.

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        email -> Nullable<Text>,
        email_verified -> Bool,
        display_name -> Nullable<Text>,
        status -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    password_credentials (user_id) {
        user_id -> Text,
        hash -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        name -> Text,
        client_type -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        grant_types -> Text,
        scopes -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        state -> Text,
        private_key_sealed -> Text,
        public_jwk -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        publish_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        recorded_at -> BigInt,
        actor -> Text,
        subject_user -> Nullable<Text>,
        client_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        event_type -> Text,
        outcome -> Text,
        reason -> Nullable<Text>,
        details -> Text,
        seq -> Nullable<BigInt>,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
    }
}

diesel::table! {
    ward_meta (key) {
        key -> Text,
        value -> Text,
        updated_at -> BigInt,
    }
}

diesel::joinable!(password_credentials -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, password_credentials);
