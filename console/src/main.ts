import ElementPlus from "element-plus";
import zhCn from "element-plus/es/locale/lang/zh-cn";
import "element-plus/dist/index.css";
import { createApp } from "vue";
import App from "./App.vue";
import { forgetMe } from "./access";
import { whenSignedOut } from "./http";
import { forgetReference } from "./reference";
import { router } from "./router";
import "./console.css";

whenSignedOut((reason) => {
  forgetMe();
  forgetReference();
  void router.push({ path: "/login", query: { reason } });
});

createApp(App).use(ElementPlus, { locale: zhCn }).use(router).mount("#app");
