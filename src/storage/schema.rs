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
        account_type -> Text,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        middle_name -> Nullable<Text>,
        birthdate -> Nullable<Text>,
        locale -> Nullable<Text>,
        zoneinfo -> Nullable<Text>,
        phone_number -> Nullable<Text>,
        phone_number_verified -> Bool,
        address -> Nullable<Text>,
        fhir_user -> Nullable<Text>,
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
        first_party -> Bool,
        require_par -> Bool,
        jwks -> Nullable<Text>,
        id_token_alg -> Text,
        access_token_seconds -> Nullable<BigInt>,
        authz_resources -> Text,
        min_acr -> Nullable<Text>,
        post_logout_redirect_uris -> Text,
        backchannel_logout_uri -> Nullable<Text>,
        shared_workstation -> Bool,
        pkce -> Text,
        jwks_uri -> Nullable<Text>,
        tenant -> Nullable<Text>,
        subject_type -> Text,
        sector -> Nullable<Text>,
        sector_identifier_uri -> Nullable<Text>,
        purpose -> Nullable<Text>,
        allowed_claims -> Nullable<Text>,
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

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        auth_time -> BigInt,
        acr -> Text,
        amr -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        ended_at -> Nullable<BigInt>,
        device_hash -> Nullable<Text>,
        factor_times -> Nullable<Text>,
        shared_workstation -> Bool,
    }
}

diesel::table! {
    auth_requests (id_hash) {
        id_hash -> Text,
        client_id -> Text,
        params -> Text,
        pushed -> Bool,
        browser_hash -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    consents (user_id, client_id) {
        user_id -> Text,
        client_id -> Text,
        scopes -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    consent_records (id) {
        id -> Text,
        user_id -> Text,
        client_id -> Text,
        version -> BigInt,
        scopes -> Text,
        claims -> Nullable<Text>,
        purpose -> Nullable<Text>,
        given_at -> BigInt,
        given_by -> Text,
        policy_version -> Text,
        withdrawn_at -> Nullable<BigInt>,
        withdrawn_by -> Nullable<Text>,
    }
}

diesel::table! {
    disclosures (id) {
        id -> Text,
        disclosed_at -> BigInt,
        user_id -> Text,
        client_id -> Text,
        sub -> Text,
        kind -> Text,
        claims -> Text,
        scopes -> Text,
        consent_id -> Nullable<Text>,
        tenant -> Nullable<Text>,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        client_id -> Text,
        user_id -> Text,
        scope -> Text,
        session_hash -> Nullable<Text>,
        auth_time -> BigInt,
        acr -> Text,
        amr -> Text,
        nonce -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        tenant -> Nullable<Text>,
        claims -> Nullable<Text>,
        smart -> Nullable<Text>,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        user_id -> Text,
        redirect_uri -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        session_hash -> Nullable<Text>,
        auth_time -> BigInt,
        acr -> Text,
        amr -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
        grant_id -> Nullable<Text>,
        tenant -> Nullable<Text>,
        claims -> Nullable<Text>,
        smart -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        created_at -> BigInt,
        rotated_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    client_assertions (client_id, jti) {
        client_id -> Text,
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::joinable!(authorization_codes -> users (user_id));
diesel::joinable!(grants -> users (user_id));
diesel::joinable!(refresh_tokens -> grants (grant_id));
diesel::allow_tables_to_appear_in_same_query!(users, authorization_codes, grants, refresh_tokens);

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> BigInt,
        last_failure_at -> BigInt,
        blocked_until -> BigInt,
    }
}

diesel::table! {
    passkeys (credential_id) {
        credential_id -> Text,
        user_id -> Text,
        name -> Text,
        passkey -> Text,
        aaguid -> Text,
        backup_eligible -> Bool,
        backup_state -> Bool,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webauthn_ceremonies (id_hash) {
        id_hash -> Text,
        kind -> Text,
        user_id -> Nullable<Text>,
        state -> Text,
        context -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    totp_credentials (user_id) {
        user_id -> Text,
        secret_sealed -> Text,
        confirmed_at -> Nullable<BigInt>,
        last_step -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    recovery_codes (user_id, code_hash) {
        user_id -> Text,
        code_hash -> Text,
        created_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    email_codes (user_id, purpose) {
        user_id -> Text,
        purpose -> Text,
        code_hash -> Text,
        email -> Text,
        attempts -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    login_progress (id_hash) {
        id_hash -> Text,
        user_id -> Nullable<Text>,
        state -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    known_devices (user_id, device_hash) {
        user_id -> Text,
        device_hash -> Text,
        first_seen -> BigInt,
        last_seen -> BigInt,
    }
}

diesel::table! {
    policy_rules (id) {
        id -> BigInt,
        ptype -> Text,
        v0 -> Text,
        v1 -> Text,
        v2 -> Text,
        v3 -> Text,
    }
}

diesel::table! {
    policy_version (id) {
        id -> Integer,
        version -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    break_glass (id) {
        id -> Text,
        user_id -> Text,
        tenant -> Text,
        reason -> Text,
        started_at -> BigInt,
        expires_at -> BigInt,
        reviewed_by -> Nullable<Text>,
        reviewed_at -> Nullable<BigInt>,
        review_note -> Nullable<Text>,
    }
}

diesel::table! {
    session_clients (session_hash, client_id) {
        session_hash -> Text,
        client_id -> Text,
        first_at -> BigInt,
    }
}

diesel::table! {
    logout_outbox (id) {
        id -> BigInt,
        client_id -> Text,
        uri -> Text,
        sub -> Text,
        session_hash -> Text,
        created_at -> BigInt,
        next_attempt_at -> BigInt,
        attempts -> BigInt,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<BigInt>,
        given_up_at -> Nullable<BigInt>,
    }
}
diesel::allow_tables_to_appear_in_same_query!(session_clients, clients);
diesel::allow_tables_to_appear_in_same_query!(session_clients, sessions);

diesel::table! {
    known_networks (user_id, prefix) {
        user_id -> Text,
        prefix -> Text,
        first_seen -> BigInt,
        last_seen -> BigInt,
    }
}

diesel::table! {
    last_locations (user_id) {
        user_id -> Text,
        latitude -> Double,
        longitude -> Double,
        seen_at -> BigInt,
    }
}

diesel::table! {
    fhir_servers (id) {
        id -> Text,
        base_url -> Text,
        tenant -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    smart_launches (launch_hash) {
        launch_hash -> Text,
        tenant -> Text,
        client_id -> Text,
        ehr_client_id -> Text,
        user_id -> Nullable<Text>,
        context -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    approvals (id) {
        id -> Text,
        kind -> Text,
        subject -> Text,
        details -> Text,
        requested_by -> Text,
        requested_at -> BigInt,
        expires_at -> BigInt,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<BigInt>,
        decision -> Nullable<Text>,
    }
}

diesel::table! {
    user_data_keys (user_id) {
        user_id -> Text,
        key_sealed -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    erasures (user_id) {
        user_id -> Text,
        erased_at -> BigInt,
        erased_by -> Text,
        approved_by -> Nullable<Text>,
        reason -> Text,
    }
}

diesel::table! {
    legal_holds (user_id) {
        user_id -> Text,
        reason -> Text,
        placed_by -> Text,
        placed_at -> BigInt,
    }
}
diesel::allow_tables_to_appear_in_same_query!(disclosures, consent_records);
