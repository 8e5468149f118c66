//! HTML templates (minijinja), compiled into the binary and auto-escaped.

use minijinja::{Environment, Value};

pub struct Views {
    env: Environment<'static>,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../templates/layout.html")),
    (
        "pages/index.html",
        include_str!("../../templates/pages/index.html"),
    ),
    (
        "pages/error.html",
        include_str!("../../templates/pages/error.html"),
    ),
    (
        "pages/login.html",
        include_str!("../../templates/pages/login.html"),
    ),
    (
        "pages/consent.html",
        include_str!("../../templates/pages/consent.html"),
    ),
    (
        "pages/connected_apps.html",
        include_str!("../../templates/pages/connected_apps.html"),
    ),
    (
        "pages/withdraw_app.html",
        include_str!("../../templates/pages/withdraw_app.html"),
    ),
    (
        "pages/activity.html",
        include_str!("../../templates/pages/activity.html"),
    ),
    (
        "pages/verify.html",
        include_str!("../../templates/pages/verify.html"),
    ),
    (
        "pages/recover.html",
        include_str!("../../templates/pages/recover.html"),
    ),
    (
        "pages/signup.html",
        include_str!("../../templates/pages/signup.html"),
    ),
    (
        "pages/account.html",
        include_str!("../../templates/pages/account.html"),
    ),
    (
        "pages/totp_setup.html",
        include_str!("../../templates/pages/totp_setup.html"),
    ),
    (
        "pages/recovery_codes.html",
        include_str!("../../templates/pages/recovery_codes.html"),
    ),
    (
        "pages/tenant.html",
        include_str!("../../templates/pages/tenant.html"),
    ),
    (
        "pages/continue.html",
        include_str!("../../templates/pages/continue.html"),
    ),
    (
        "pages/picker.html",
        include_str!("../../templates/pages/picker.html"),
    ),
    (
        "pages/logout.html",
        include_str!("../../templates/pages/logout.html"),
    ),
    (
        "pages/signed_out.html",
        include_str!("../../templates/pages/signed_out.html"),
    ),
    (
        "pages/form_post.html",
        include_str!("../../templates/pages/form_post.html"),
    ),
    (
        "admin/base.html",
        include_str!("../../templates/admin/base.html"),
    ),
    (
        "admin/home.html",
        include_str!("../../templates/admin/home.html"),
    ),
    (
        "admin/confirm.html",
        include_str!("../../templates/admin/confirm.html"),
    ),
    (
        "admin/users.html",
        include_str!("../../templates/admin/users.html"),
    ),
    (
        "admin/user.html",
        include_str!("../../templates/admin/user.html"),
    ),
    (
        "admin/approvals.html",
        include_str!("../../templates/admin/approvals.html"),
    ),
    (
        "admin/break_glass.html",
        include_str!("../../templates/admin/break_glass.html"),
    ),
    (
        "admin/audit.html",
        include_str!("../../templates/admin/audit.html"),
    ),
    (
        "admin/roles.html",
        include_str!("../../templates/admin/roles.html"),
    ),
    (
        "admin/sessions.html",
        include_str!("../../templates/admin/sessions.html"),
    ),
    (
        "admin/keys.html",
        include_str!("../../templates/admin/keys.html"),
    ),
    (
        "admin/clients.html",
        include_str!("../../templates/admin/clients.html"),
    ),
    (
        "admin/client_new.html",
        include_str!("../../templates/admin/client_new.html"),
    ),
    (
        "admin/client_created.html",
        include_str!("../../templates/admin/client_created.html"),
    ),
];

impl Views {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
    }

    pub fn render(&self, name: &str, context: Value) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context)
    }
}
