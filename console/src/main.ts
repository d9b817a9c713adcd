import { vLoading } from "element-plus";
import "element-plus/es/components/loading/style/css";
import "element-plus/es/components/message-box/style/css";
import "element-plus/es/components/message/style/css";
import { createApp } from "vue";
import App from "./App.vue";
import { forgetMe } from "./access";
import { forgetEarly } from "./dashboardData";
import { whenSignedOut } from "./http";
import { forgetReference } from "./reference";
import { router } from "./router";
import "./console.css";

whenSignedOut((reason) => {
  forgetMe();
  forgetEarly();
  forgetReference();
  void router.push({ path: "/login", query: { reason } });
});

createApp(App).directive("loading", vLoading).use(router).mount("#app");
