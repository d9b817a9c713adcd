/* 登录: sign in with the account the steward set up. A first sign-in with a password an
   administrator chose must set a new one before anything else (scope password_change). */
import { errorBox, field, h, replaceChildren, setBusy } from "./dom.js";
import { call } from "./http.js";
import { errorMessage, fieldErrors } from "./messages.js";
import { navigate, setFlash, takeReturn } from "./router.js";
import { saveSession } from "./session.js";
export function loginView() {
    const root = h("div", { class: "view" });
    replaceChildren(root, ...signInStep(root));
    return root;
}
function signInStep(root) {
    const username = field("用户名", h("input", {
        name: "username",
        type: "text",
        autocomplete: "username",
        autocapitalize: "none",
        spellcheck: "false",
        maxlength: 64,
        required: true,
    }));
    const password = field("密码", h("input", { name: "password", type: "password", autocomplete: "current-password", maxlength: 128, required: true }));
    const notice = errorBox();
    const form = h("form", { class: "card", novalidate: true, "aria-label": "登录" }, username.root, password.root, showPassword([password.control]), notice.root, h("button", { type: "submit", class: "primary" }, "登录"));
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        void submit();
    });
    async function submit() {
        notice.clear();
        const name = username.control.value.trim();
        const secret = password.control.value;
        username.setError(name === "" ? "请输入用户名。" : null);
        password.setError(secret === "" ? "请输入密码。" : null);
        if (name === "" || secret === "") {
            (name === "" ? username.control : password.control).focus();
            return;
        }
        setBusy(form, true);
        try {
            const token = await call("post", "/api/v1/auth/login", { body: { username: name, password: secret }, auth: false });
            if (token.scope === "password_change") {
                replaceChildren(root, ...passwordStep(name, secret, token.access_token));
                root.querySelector("h1")?.focus();
                return;
            }
            await finish(token.access_token);
        }
        catch (error) {
            notice.error(errorMessage(error, "login"), [username, password]);
            password.control.value = "";
            password.control.focus();
        }
        finally {
            setBusy(form, false);
        }
    }
    return [
        h("h1", { tabindex: -1 }, "登录"),
        h("p", { class: "lead" }, "请使用科技专员为您开通的账号登录，查看和办理您的申请。"),
        form,
        h("p", { class: "aside" }, "只想查看进度？无需登录，可使用", h("a", { href: "#/lookup" }, "办件查询"), "。"),
    ];
}
function passwordStep(username, current, token) {
    const fresh = field("新密码", h("input", { name: "new_password", type: "password", autocomplete: "new-password", maxlength: 128, required: true }), { hint: "至少 12 个字符，包含大写字母、小写字母、数字、其他符号中的至少三类，且不能包含用户名。" });
    const again = field("再次输入新密码", h("input", { name: "confirm_password", type: "password", autocomplete: "new-password", maxlength: 128, required: true }));
    const notice = errorBox();
    const form = h("form", { class: "card", novalidate: true, "aria-label": "设置新密码" }, fresh.root, again.root, showPassword([fresh.control, again.control]), notice.root, h("button", { type: "submit", class: "primary" }, "保存新密码"));
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        void submit();
    });
    async function submit() {
        notice.clear();
        fresh.setError(null);
        again.setError(null);
        const value = fresh.control.value;
        if (value.length < 12) {
            fresh.setError("新密码至少需要 12 个字符。");
            fresh.control.focus();
            return;
        }
        if (value !== again.control.value) {
            again.setError("两次输入的新密码不一致。");
            again.control.focus();
            return;
        }
        setBusy(form, true);
        try {
            await call("post", "/api/v1/auth/password", { body: { current_password: current, new_password: value }, token });
            try {
                await finish(token);
            }
            catch {
                // The session was not carried on: sign in again with the new password.
                const fresh = await call("post", "/api/v1/auth/login", { body: { username, password: value }, auth: false });
                await finish(fresh.access_token);
            }
        }
        catch (error) {
            const reason = fieldErrors(error).get("new_password");
            if (reason !== undefined) {
                fresh.setError(`新密码${reason}。`);
                fresh.control.focus();
            }
            else {
                notice.error(errorMessage(error, "password"));
            }
        }
        finally {
            setBusy(form, false);
        }
    }
    return [
        h("h1", { tabindex: -1 }, "设置新密码"),
        h("p", { class: "lead" }, "这是您第一次登录（或密码已被重置），请先设置只有您自己知道的新密码。"),
        form,
    ];
}
/** Only a science worker's account belongs here; staff use their own tools. The token
    is kept for the tab only once it is a worker's with full scope. */
async function finish(token) {
    const me = await call("get", "/api/v1/auth/me", { token });
    if (me.scope !== "full")
        throw new Error("the session is not fully signed in");
    if (me.role !== "worker") {
        await call("post", "/api/v1/auth/logout", { token }).catch(() => undefined);
        setFlash("本网页供科技工作者使用。工作人员请使用办件管理系统。");
        navigate("#/login");
        return;
    }
    saveSession({ token, username: me.username });
    navigate(takeReturn());
}
function showPassword(inputs) {
    const box = h("input", { type: "checkbox", id: `show-${inputs[0]?.id ?? "pw"}` });
    box.addEventListener("change", () => {
        for (const input of inputs)
            input.type = box.checked ? "text" : "password";
    });
    return h("div", { class: "check" }, box, h("label", { for: box.id }, "显示密码"));
}
